/// The tests of `value is [not] name(...)`, with Jinja's definitions (jinja2/tests.py) over Python's types.
enum JinjaTestFunctions {
    typealias Test = @Sendable (JinjaValue, JinjaArguments) throws -> Bool

    static let names: Set<String> = Set(table.keys)

    static func apply(_ name: String, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> Bool {
        guard let test = table[name] else { throw JinjaValue.error("unsupported test '\(name)'") }
        return try test(value, arguments)
    }

    /// A test comparing the value with its one argument.
    private static func comparing(_ comparison: JinjaComparison) -> Test {
        { value, arguments in
            guard let other = arguments.value(0, "other") else { throw JinjaValue.error("test needs an argument") }
            return try value.compare(comparison, other)
        }
    }

    private static let table: [String: Test] = [
        "defined": { value, _ in value.isDefined },
        "undefined": { value, _ in !value.isDefined },
        "none": { value, _ in value == .none },
        "boolean": { value, _ in if case .bool = value { true } else { false } },
        "true": { value, _ in isBool(value) && value == .bool(true) },
        "false": { value, _ in isBool(value) && value == .bool(false) },
        "integer": { value, _ in if case .int = value { true } else { false } },
        "float": { value, _ in if case .double = value { true } else { false } },
        "number": { value, _ in value.number != nil },  // Python's bool is a Number too
        "string": { value, _ in if case .string = value { true } else { false } },
        "mapping": { value, _ in if case .object = value { true } else { false } },
        "iterable": { value, _ in isIterable(value) },
        "sequence": { value, _ in isIterable(value) },
        "callable": { value, _ in if case .function = value { true } else { false } },
        "sameas": comparing(.equal),
        "eq": comparing(.equal), "equalto": comparing(.equal), "==": comparing(.equal),
        "ne": comparing(.notEqual), "!=": comparing(.notEqual),
        "lt": comparing(.less), "lessthan": comparing(.less), "<": comparing(.less),
        "le": comparing(.lessOrEqual), "<=": comparing(.lessOrEqual),
        "gt": comparing(.greater), "greaterthan": comparing(.greater), ">": comparing(.greater),
        "ge": comparing(.greaterOrEqual), ">=": comparing(.greaterOrEqual),
        "in": { value, arguments in try (arguments.value(0, "seq") ?? .array([])).contains(value) },
        "odd": { value, _ in try integer(value, "odd") % 2 != 0 },
        "even": { value, _ in try integer(value, "even") % 2 == 0 },
        "divisibleby": { value, arguments in
            let divisor = try integer(arguments.value(0, "num") ?? .none, "divisibleby")
            let dividend = try integer(value, "divisibleby")
            return divisor != 0 && dividend % divisor == 0
        },
        "lower": { value, _ in value.pythonString.lowercased() == value.pythonString },
        "upper": { value, _ in value.pythonString.uppercased() == value.pythonString },
    ]

    private static func isBool(_ value: JinjaValue) -> Bool {
        if case .bool = value { return true }
        return false
    }

    /// Whether Python's `iter(value)` works: strings, lists, dicts, and Jinja's Undefined (it iterates as empty).
    private static func isIterable(_ value: JinjaValue) -> Bool {
        switch value {
        case .undefined, .string, .array, .object: return true
        default: return false
        }
    }

    private static func integer(_ value: JinjaValue, _ test: String) throws -> Int {
        guard let i = value.integer else { throw JinjaValue.error("test '\(test)' needs an integer, got \(value.typeName)") }
        return i
    }
}
