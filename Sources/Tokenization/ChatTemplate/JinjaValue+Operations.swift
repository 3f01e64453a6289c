import Foundation

/// Operators, iteration, attribute and item access with the semantics Jinja gets from Python.
/// Errors are thrown without a line; the interpreter adds the line of the expression.
extension JinjaValue {
    static func error(_ message: String) -> TokenizerError { .template(message: message, line: nil) }

    /// The most items or characters `*` repetition, `indent` and `tojson(indent=)` may produce, so a template
    /// cannot ask for gigabytes.
    static let maxRepetition = 10_000_000

    /// `count` after checking that `count` copies of something `unit` long stay within `maxRepetition`.
    static func repetitions(_ count: Int, of unit: Int) throws -> Int {
        let (total, overflow) = max(count, 0).multipliedReportingOverflow(by: max(unit, 1))
        guard !overflow, total <= maxRepetition else {
            throw error("repetition of \(count) x \(unit) exceeds the limit of \(maxRepetition)")
        }
        return max(count, 0)
    }

    /// Throws the reason this value is undefined, for the operations an `Undefined` refuses.
    func requireDefined() throws {
        if case .undefined(let why) = self { throw JinjaValue.error(why) }
    }

    /// The values a `for` loop sees: list items, dict keys, a string's characters; undefined iterates as empty.
    func iterated() throws -> [JinjaValue] {
        switch self {
        case .undefined: return []
        case .array(let items): return items
        case .object(let object): return object.keys.map(JinjaValue.string)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw JinjaValue.error("'\(typeName)' object is not iterable")
        }
    }

    /// Python's `len()`; undefined has length 0.
    func length() throws -> Int {
        switch self {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .array(let items): return items.count
        case .object(let object): return object.count
        default: throw JinjaValue.error("object of type '\(typeName)' has no len()")
        }
    }

    /// `value.name`: Jinja's `getattr` tries the Python attribute (a method such as `items` or `strip`) first,
    /// then the item `value["name"]`; a missing one is undefined, except on undefined itself, which raises.
    func attribute(_ name: String) throws -> JinjaValue {
        try requireDefined()
        if let method = method(name) { return .function(method) }
        switch self {
        case .object(let object):
            if let value = object[name] { return value }
        case .namespace(let namespace):
            if let value = namespace[name] { return value }
        default:
            break
        }
        return .undefined(why: "'\(typeName) object' has no attribute '\(name)'")
    }

    /// `value[key]`: Jinja's `getitem` tries the item first, then (for a string key) the attribute.
    func item(_ key: JinjaValue) throws -> JinjaValue {
        try requireDefined()
        switch (self, key) {
        case (.array(let items), _) where key.integer != nil:
            return JinjaValue.element(items, key.integer ?? 0)
                ?? .undefined(why: "list object has no element \(key.pythonRepr)")
        case (.string(let s), _) where key.integer != nil:
            let scalars = s.scalars
            return JinjaValue.element(scalars, key.integer ?? 0).map { .string(String($0)) }
                ?? .undefined(why: "str object has no element \(key.pythonRepr)")
        case (.object(let object), .string(let name)):
            if let value = object[name] { return value }
            return try attribute(name)
        case (_, .string(let name)):
            return try attribute(name)
        default:
            return .undefined(why: "'\(typeName) object' has no element \(key.pythonRepr)")
        }
    }

    /// Python indexing with negative indices counting from the end.
    private static func element<T>(_ items: [T], _ index: Int) -> T? {
        let i = index < 0 ? items.count + index : index
        return items.indices.contains(i) ? items[i] : nil
    }

    /// `value[start:stop:step]` on a list or string, with Python's clamping and negative indices.
    func slice(start: JinjaValue?, stop: JinjaValue?, step: JinjaValue?) throws -> JinjaValue {
        try requireDefined()
        func bound(_ value: JinjaValue?) throws -> Int? {
            guard let value, !(value == .none) else { return nil }
            guard let i = value.integer else { throw JinjaValue.error("slice indices must be integers or None") }
            return i
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw JinjaValue.error("slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ i: Int?, _ defaultValue: Int) -> Int {
                guard var i else { return defaultValue }
                if i < 0 { i += count }
                return stride > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
            }
            let from = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let to = clamp(try bound(stop), stride > 0 ? count : -1)
            return Array(Swift.stride(from: from, to: to, by: stride))
        }
        switch self {
        case .array(let items): return .array(try indices(count: items.count).map { items[$0] })
        case .string(let s):
            let scalars = s.scalars
            return .string(String(scalars: try indices(count: scalars.count).map { scalars[$0] }))
        default: throw JinjaValue.error("'\(typeName)' object is not subscriptable")
        }
    }

    /// `needle in self`: substring, list membership or dict key; nothing is in undefined.
    func contains(_ needle: JinjaValue) throws -> Bool {
        switch self {
        case .undefined: return false
        case .string(let haystack):
            guard case .string(let s) = needle else {
                throw JinjaValue.error("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return s.isEmpty || haystack.contains(s)
        case .array(let items): return items.contains(needle)
        case .object(let object):
            guard case .string(let key) = needle else { return false }
            return object[key] != nil
        default:
            throw JinjaValue.error("argument of type '\(typeName)' is not iterable")
        }
    }

    /// Python's `<`; fails for values Python cannot order.
    func precedes(_ other: JinjaValue) throws -> Bool {
        switch (self, other) {
        case (.string(let a), .string(let b)): return a.pythonPrecedes(b)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) where !(x == y) { return try x.precedes(y) }
            return a.count < b.count
        default:
            if let a = integer, let b = other.integer { return a < b }
            if let a = number, let b = other.number { return a < b }
            try requireDefined()
            try other.requireDefined()
            throw JinjaValue.error("'<' not supported between instances of '\(typeName)' and '\(other.typeName)'")
        }
    }

    func compare(_ comparison: JinjaComparison, _ other: JinjaValue) throws -> Bool {
        switch comparison {
        case .equal: return self == other
        case .notEqual: return !(self == other)
        case .less: return try precedes(other)
        case .lessOrEqual: return try self == other || precedes(other)
        case .greater: return try other.precedes(self)
        case .greaterOrEqual: return try self == other || other.precedes(self)
        case .contains: return try other.contains(self)
        case .notContains: return try !other.contains(self)
        }
    }

    /// Unary minus.
    func negated() throws -> JinjaValue {
        switch self {
        case .int(let i):
            let (negated, overflow) = 0.subtractingReportingOverflow(i)
            guard !overflow else { throw JinjaValue.error("integer overflow in unary -") }
            return .int(negated)
        case .double(let d): return .double(-d)
        case .bool(let b): return .int(b ? -1 : 0)
        default:
            try requireDefined()
            throw JinjaValue.error("bad operand type for unary -: '\(typeName)'")
        }
    }

    /// Arithmetic and `~` with Python's typing: `str + str`, `list + list`, `str * int`, int results for
    /// int operands except `/`; `~` joins the `str()` of both sides.
    func binary(_ op: JinjaBinaryOperator, _ other: JinjaValue) throws -> JinjaValue {
        if op == .concat { return .string(pythonString + other.pythonString) }
        try requireDefined()
        try other.requireDefined()
        switch (op, self, other) {
        case (.add, .string(let a), .string(let b)): return .string(a + b)
        case (.add, .array(let a), .array(let b)): return .array(a + b)
        case (.multiply, .string(let s), _) where other.integer != nil:
            let count = try JinjaValue.repetitions(other.integer ?? 0, of: s.unicodeScalars.count)
            return .string(String(repeating: s, count: count))
        case (.multiply, .array(let a), _) where other.integer != nil:
            let count = try JinjaValue.repetitions(other.integer ?? 0, of: a.count)
            return .array(Array(repeating: a, count: count).flatMap { $0 })
        case (.modulo, .string, _):
            throw JinjaValue.error("unsupported '%' string formatting")
        default:
            break
        }
        if let a = integer, let b = other.integer { return try JinjaValue.integerArithmetic(op, a, b) }
        if let a = number, let b = other.number { return try JinjaValue.floatArithmetic(op, a, b) }
        throw JinjaValue.error("unsupported operand type(s) for \(op.rawValue): '\(typeName)' and '\(other.typeName)'")
    }

    private static func integerArithmetic(_ op: JinjaBinaryOperator, _ a: Int, _ b: Int) throws -> JinjaValue {
        func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> Int {
            guard !result.overflow else { throw error("integer overflow in \(op.rawValue)") }
            return result.partialValue
        }
        switch op {
        case .add: return .int(try checked(a.addingReportingOverflow(b)))
        case .subtract: return .int(try checked(a.subtractingReportingOverflow(b)))
        case .multiply: return .int(try checked(a.multipliedReportingOverflow(by: b)))
        case .divide: return try floatArithmetic(op, Double(a), Double(b))
        case .floorDivide, .modulo:
            guard b != 0 else { throw error("integer division or modulo by zero") }
            var quotient = a / b, remainder = a % b
            if remainder != 0 && (remainder < 0) != (b < 0) {  // Python floors toward negative infinity
                quotient -= 1
                remainder += b
            }
            return .int(op == .floorDivide ? quotient : remainder)
        case .power:
            guard b >= 0 else { return try floatArithmetic(op, Double(a), Double(b)) }
            var result = 1, base = a, exponent = b  // by squaring: a ** b in log2(b) steps
            while exponent > 0 {
                if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)) }
                exponent >>= 1
                if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)) }
            }
            return .int(result)
        case .concat: return .string(String(a) + String(b))
        }
    }

    private static func floatArithmetic(_ op: JinjaBinaryOperator, _ a: Double, _ b: Double) throws -> JinjaValue {
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw error("division by zero") }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw error("float floor division by zero") }
            return .double((a / b).rounded(.down))
        case .modulo:
            guard b != 0 else { throw error("float modulo") }
            let r = a.truncatingRemainder(dividingBy: b)
            return .double(r != 0 && (r < 0) != (b < 0) ? r + b : r)
        case .power: return .double(Foundation.pow(a, b))
        case .concat: return .string(pythonFloat(a) + pythonFloat(b))
        }
    }
}
