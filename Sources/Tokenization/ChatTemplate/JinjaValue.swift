import Foundation
import Synchronization

/// A value seen by a chat template, with Python's semantics as Jinja gives them: truthiness, `==`, `str()`.
///
/// Templates only ever see JSON-like data (transformers rebuilds every input from plain JSON types), so the
/// cases are Python's `None`, `bool`, `int`, `float`, `str`, `list` and `dict` (string keys, insertion order),
/// plus the three things a template itself creates: undefined names, namespaces and functions.
public enum JinjaValue: Sendable {
    /// Jinja's default `Undefined`: falsy, renders as "", iterates as empty; `why` is the message raised when
    /// the template goes on to use it (an attribute, a call, arithmetic).
    case undefined(why: String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(JinjaObject)
    case namespace(JinjaNamespace)
    indirect case function(JinjaFunction)  // boxed: keeps every value 16 bytes + tag, which deep renders feel

    /// An undefined variable, as Jinja reports it.
    static func undefinedName(_ name: String) -> JinjaValue { .undefined(why: "'\(name)' is undefined") }

    /// Python's `bool(value)`.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        case .namespace, .function: return true
        }
    }

    public var isDefined: Bool {
        if case .undefined = self { return false }
        return true
    }

    /// The Python type name, for error messages ("unsupported operand type(s) for +: 'int' and 'str'").
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// The numeric value of an int, float or bool (Python's bools are ints).
    var number: Double? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The integer value of an int or bool.
    var integer: Int? {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        default: return nil
        }
    }
}

// MARK: - Equality

extension JinjaValue: Equatable {
    /// Python's `==`: numbers compare by value across int, float and bool; dicts ignore key order;
    /// two undefined values are equal (as Jinja's `Undefined.__eq__` says).
    public static func == (lhs: JinjaValue, rhs: JinjaValue) -> Bool {
        switch (lhs, rhs) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.function(let a), .function(let b)): return a.name == b.name
        default:
            if let a = lhs.integer, let b = rhs.integer { return a == b }
            if let a = lhs.number, let b = rhs.number { return a == b }
            return false
        }
    }
}

// MARK: - Literals

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .none }
    /// Keeps the order the pairs are written in, as a Python dict literal does.
    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        var object = JinjaObject()
        for (key, value) in elements { object[key] = value }
        self = .object(object)
    }
}

// MARK: - Containers

/// A Python dict with string keys that remembers insertion order (order shows in `tojson`, `items` and loops).
public struct JinjaObject: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]

    public init() {}

    public init(_ pairs: [(String, JinjaValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    public var isEmpty: Bool { keys.isEmpty }
    public var count: Int { keys.count }

    /// The value for `key`; setting a new key appends it, setting nil removes it.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// The (key, value) pairs in insertion order.
    public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0] ?? .none) } }

    /// Dict equality ignores insertion order, as in Python.
    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool { lhs.storage == rhs.storage }
}

/// The object made by `namespace(...)`: the one value a template can change from inside a loop
/// (`{% set ns.found = true %}`), so it is shared by reference.
public final class JinjaNamespace: Sendable {
    private let attributes: Mutex<JinjaObject>

    public init(_ attributes: JinjaObject = JinjaObject()) { self.attributes = Mutex(attributes) }

    public subscript(name: String) -> JinjaValue? {
        get { attributes.withLock { $0[name] } }
        set { attributes.withLock { $0[name] = newValue } }
    }

    /// A copy of the attributes, for printing.
    public var snapshot: JinjaObject { attributes.withLock { $0 } }
}

/// Positional and keyword arguments of a call, a filter or a test, with Python's binding rules.
public struct JinjaArguments: Sendable {
    public var positional: [JinjaValue]
    public var keyword: [(String, JinjaValue)]
    /// Set by the interpreter for macros: the template's top-level variables at the time of the call
    /// (a macro reads them as they are then).
    var topLevel: [String: JinjaValue] = [:]

    public init(_ positional: [JinjaValue] = [], keyword: [(String, JinjaValue)] = []) {
        self.positional = positional
        self.keyword = keyword
    }

    /// The argument at `index`, or the keyword argument `name`; nil when neither is given.
    public func value(_ index: Int, _ name: String) -> JinjaValue? {
        if index < positional.count { return positional[index] }
        return keyword.first { $0.0 == name }?.1
    }

    /// Fails when more positional arguments are given than `names`, or an unknown keyword is used.
    func check(_ function: String, accepts names: [String]) throws {
        if positional.count > names.count {
            throw TokenizerError.template(
                message: "\(function)() takes at most \(names.count) arguments (\(positional.count) given)", line: nil)
        }
        if let unknown = keyword.first(where: { !names.contains($0.0) }) {
            throw TokenizerError.template(
                message: "\(function)() got an unexpected keyword argument '\(unknown.0)'", line: nil)
        }
    }
}

/// A function a template can call: a global such as `raise_exception`, or a bound method such as `text.strip`.
public struct JinjaFunction: Sendable {
    public let name: String
    let body: @Sendable (JinjaArguments) throws -> JinjaValue

    public init(name: String, _ body: @escaping @Sendable (JinjaArguments) throws -> JinjaValue) {
        self.name = name
        self.body = body
    }

    public func callAsFunction(_ arguments: JinjaArguments) throws -> JinjaValue { try body(arguments) }
}
