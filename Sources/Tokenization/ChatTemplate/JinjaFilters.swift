/// The filters of `value | name(...)`, following jinja2/filters.py, with transformers' `tojson`
/// (`json.dumps(ensure_ascii=False)`, no HTML escaping).
enum JinjaFilters {
    typealias Filter = @Sendable (JinjaValue, JinjaArguments) throws -> JinjaValue

    static let names: Set<String> = Set(table.keys)

    static func apply(_ name: String, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
        guard let filter = table[name] else { throw JinjaValue.error("unsupported filter '\(name)'") }
        return try filter(value, arguments)
    }

    /// A filter with named parameters (checked like a Python call) working on the value.
    private static func filter(_ name: String, _ parameters: [String] = [],
                               _ body: @escaping @Sendable (JinjaValue, JinjaArguments) throws -> JinjaValue) -> Filter {
        { value, arguments in
            try arguments.check(name, accepts: parameters)
            return try body(value, arguments)
        }
    }

    /// A filter on `str(value)`.
    private static func text(_ name: String, _ body: @escaping @Sendable (String) -> String) -> Filter {
        filter(name) { value, _ in .string(body(value.pythonString)) }
    }

    private static let table: [String: Filter] = [
        "abs": filter("abs") { value, _ in
            switch value {
            case .int(let i): return .int(i == Int.min ? Int.max : abs(i))
            case .double(let d): return .double(abs(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw JinjaValue.error("bad operand type for abs(): '\(value.typeName)'")
            }
        },
        "capitalize": text("capitalize", \.pythonCapitalized),
        "lower": text("lower") { $0.lowercased() },
        "upper": text("upper") { $0.uppercased() },
        "title": text("title", jinjaTitle),
        "safe": filter("safe") { value, _ in value },
        "string": filter("string") { value, _ in .string(value.pythonString) },
        "length": filter("length") { value, _ in .int(try value.length()) },
        "count": filter("count") { value, _ in .int(try value.length()) },
        "list": filter("list") { value, _ in .array(try value.iterated()) },
        "default": defaultFilter,
        "d": defaultFilter,
        "first": filter("first") { value, _ in
            try value.iterated().first ?? .undefined(why: "No first item, sequence was empty.")
        },
        "last": filter("last") { value, _ in
            try value.iterated().last ?? .undefined(why: "No last item, sequence was empty.")
        },
        "reverse": filter("reverse") { value, _ in
            if case .string(let s) = value { return .string(String(scalars: s.unicodeScalars.reversed())) }
            return .array(try value.iterated().reversed())
        },
        "trim": filter("trim", ["chars"]) { value, args in
            .string(value.pythonString.pythonStrip(try JinjaValue.optionalString(args.value(0, "chars"), "trim")))
        },
        "replace": filter("replace", ["old", "new", "count"]) { value, args in
            guard let old = args.value(0, "old"), let new = args.value(1, "new") else {
                throw JinjaValue.error("replace() needs the old and new strings")
            }
            let count = args.value(2, "count").flatMap(\.integer) ?? -1
            return .string(value.pythonString.pythonReplace(old.pythonString, new.pythonString, count: count))
        },
        "join": filter("join", ["d", "attribute"]) { value, args in
            var items = try value.iterated()
            if let attribute = args.value(1, "attribute"), attribute.isDefined, !(attribute == .none) {
                items = try items.map { try path($0, attribute) }
            }
            let separator = args.value(0, "d")?.pythonString ?? ""
            return .string(items.map(\.pythonString).joined(separator: separator))
        },
        "items": filter("items") { value, _ in
            switch value {
            case .undefined: return .array([])
            case .object(let object): return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
            default: throw JinjaValue.error("Can only get item pairs from a mapping.")
            }
        },
        "indent": filter("indent", ["width", "first", "blank"]) { value, args in
            let width = args.value(0, "width") ?? .int(4)
            let indentation = if case .string(let s) = width { s } else { try spaces(width.integer ?? 4) }
            return .string(indent(value.pythonString, indentation, first: args.value(1, "first")?.isTruthy ?? false,
                                  blank: args.value(2, "blank")?.isTruthy ?? false))
        },
        "int": filter("int", ["default", "base"]) { value, args in
            let fallback = args.value(0, "default") ?? .int(0)
            switch value {
            case .int, .bool: return .int(value.integer ?? 0)
            case .double(let d): return Int(exactly: d.rounded(.towardZero)).map(JinjaValue.int) ?? fallback
            case .string(let s):
                let trimmed = s.pythonStrip().replacingOccurrences(of: "_", with: "")
                let base = args.value(1, "base")?.integer ?? 10
                guard (2...36).contains(base) else { throw JinjaValue.error("int() base must be >= 2 and <= 36") }
                if let i = Int(trimmed, radix: base) { return .int(i) }
                if let d = Double(trimmed), let i = Int(exactly: d.rounded(.towardZero)) { return .int(i) }
                return fallback
            default: return fallback
            }
        },
        "float": filter("float", ["default"]) { value, args in
            let fallback = args.value(0, "default") ?? .double(0)
            switch value {
            case .int, .bool, .double: return .double(value.number ?? 0)
            case .string(let s): return Double(s.pythonStrip()).map(JinjaValue.double) ?? fallback
            default: return fallback
            }
        },
        "tojson": filter("tojson", ["indent", "ensure_ascii", "separators", "sort_keys"]) { value, args in
            var indentation: String?
            switch args.value(0, "indent") {
            case nil, .none?: indentation = nil
            case .string(let s)?: indentation = s
            case let width?: indentation = try spaces(width.integer ?? 0)
            }
            var separators: (String, String)?
            if case .array(let pair)? = args.value(2, "separators"), pair.count == 2,
               case .string(let item) = pair[0], case .string(let key) = pair[1] {
                separators = (item, key)
            }
            return .string(try value.json(indent: indentation, separators: separators,
                                          sortKeys: args.value(3, "sort_keys")?.isTruthy ?? false,
                                          ensureASCII: args.value(1, "ensure_ascii")?.isTruthy ?? false))
        },
        "map": { value, args in
            let items = try value.iterated()
            if let attribute = args.keyword.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = args.keyword.first { $0.0 == "default" }?.1
                return .array(try items.map { item in
                    let result = try path(item, attribute)
                    return result.isDefined ? result : (fallback ?? result)
                })
            }
            guard case .string(let name)? = args.positional.first else {
                throw JinjaValue.error("map() needs a filter name or attribute=")
            }
            let rest = JinjaArguments(Array(args.positional.dropFirst()), keyword: args.keyword)
            return .array(try items.map { try apply(name, $0, rest) })
        },
        "select": selecting(byAttribute: false, keep: true),
        "reject": selecting(byAttribute: false, keep: false),
        "selectattr": selecting(byAttribute: true, keep: true),
        "rejectattr": selecting(byAttribute: true, keep: false),
    ]

    /// `default(value, default_value='', boolean=False)`: the fallback when the value is undefined
    /// (or, with boolean=true, falsy).
    private static let defaultFilter: Filter = filter("default", ["default_value", "boolean"]) { value, args in
        let useFallback = !value.isDefined || ((args.value(1, "boolean")?.isTruthy ?? false) && !value.isTruthy)
        return useFallback ? (args.value(0, "default_value") ?? .string("")) : value
    }

    /// `select`/`reject` (by a test on each item) and `selectattr`/`rejectattr` (on an attribute of each item);
    /// with no test name, the item's truthiness decides.
    private static func selecting(byAttribute: Bool, keep: Bool) -> Filter {
        { value, args in
            var positional = args.positional
            let attribute = byAttribute ? positional.first : nil
            if byAttribute {
                guard attribute != nil else { throw JinjaValue.error("selectattr/rejectattr need an attribute name") }
                positional.removeFirst()
            }
            let testName = positional.first.map(\.pythonString)
            let testArguments = JinjaArguments(Array(positional.dropFirst()), keyword: args.keyword)
            return .array(try value.iterated().filter { item in
                let subject = try attribute.map { try path(item, $0) } ?? item
                let passes = try testName.map { try JinjaTestFunctions.apply($0, subject, testArguments) } ?? subject.isTruthy
                return passes == keep
            })
        }
    }

    /// `count` spaces, for `indent(4)` and `tojson(indent=4)`.
    private static func spaces(_ count: Int) throws -> String {
        String(repeating: " ", count: try JinjaValue.repetitions(min(count, JinjaValue.maxRepetition + 1), of: 1))
    }

    /// Jinja's attribute getter for `map(attribute=...)` and friends: "a.b.0" walks attributes and indices.
    private static func path(_ item: JinjaValue, _ attribute: JinjaValue) throws -> JinjaValue {
        if let index = attribute.integer { return try item.item(.int(index)) }
        var value = item
        for part in attribute.pythonString.split(separator: ".", omittingEmptySubsequences: false) {
            value = try Int(part).map { try value.item(.int($0)) } ?? value.item(.string(String(part)))
        }
        return value
    }

    /// Jinja's `title` filter: upper-cases the first letter of each word, where words begin after spaces,
    /// hyphens and opening brackets, and lower-cases the rest.
    private static func jinjaTitle(_ s: String) -> String {
        var out = "", atWordStart = true
        for scalar in s.unicodeScalars {
            let boundary = scalar.isPythonWhitespace || "-({[<".unicodeScalars.contains(scalar)
            out += boundary ? String(scalar) : atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
            atWordStart = boundary
        }
        return out
    }

    /// Jinja's `indent`: every line but the first (and the first too with `first`) gets the indentation;
    /// blank lines only with `blank`.
    private static func indent(_ s: String, _ indentation: String, first: Bool, blank: Bool) -> String {
        var lines = (s + "\n").pythonSplitLines()
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indentation)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
            }
        }
        return first ? indentation + result : result
    }
}
