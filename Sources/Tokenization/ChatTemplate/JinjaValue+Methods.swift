/// The Python methods templates call on values: `text.strip()`, `text.split(",")`, `message.get("x")`,
/// `message.items()`. Only methods that do not change the value exist (transformers renders in a sandbox).
extension JinjaValue {
    /// The bound method `name` of this value, or nil when the value has no such method.
    func method(_ name: String) -> JinjaFunction? {
        switch self {
        case .string(let s): return JinjaValue.stringMethod(s, name)
        case .object(let o): return JinjaValue.dictMethod(o, name)
        default: return nil
        }
    }

    private static func bound(_ name: String, accepts parameters: [String],
                              _ body: @escaping @Sendable (JinjaArguments) throws -> JinjaValue) -> JinjaFunction {
        JinjaFunction(name: name) { arguments in
            try arguments.check(name, accepts: parameters)
            return try body(arguments)
        }
    }

    /// A string argument, or nil when it is absent or None.
    static func optionalString(_ value: JinjaValue?, _ function: String) throws -> String? {
        switch value {
        case nil, .none?: return nil
        case .string(let s)?: return s
        case let other?: throw error("\(function)() argument must be str or None, not \(other.typeName)")
        }
    }

    private static func stringMethod(_ s: String, _ name: String) -> JinjaFunction? {
        func strip(leading: Bool, trailing: Bool) -> JinjaFunction {
            bound(name, accepts: ["chars"]) { args in
                .string(s.pythonStrip(try optionalString(args.value(0, "chars"), name), leading: leading, trailing: trailing))
            }
        }
        func affix(_ test: @escaping @Sendable (String) -> Bool) -> JinjaFunction {
            bound(name, accepts: ["prefix"]) { args in
                switch args.value(0, "prefix") {
                case .string(let p)?: return .bool(test(p))
                case .array(let options)?:  // a tuple of prefixes
                    return .bool(options.contains { if case .string(let p) = $0 { test(p) } else { false } })
                default: throw error("\(name)() argument must be str or a tuple of str")
                }
            }
        }
        func transform(_ f: @escaping @Sendable (String) -> String) -> JinjaFunction {
            bound(name, accepts: []) { _ in .string(f(s)) }
        }
        switch name {
        case "strip": return strip(leading: true, trailing: true)
        case "lstrip": return strip(leading: true, trailing: false)
        case "rstrip": return strip(leading: false, trailing: true)
        case "startswith": return affix { s.unicodeScalars.starts(with: $0.unicodeScalars) }
        case "endswith": return affix { s.unicodeScalars.reversed().starts(with: $0.unicodeScalars.reversed()) }
        case "upper": return transform { $0.uppercased() }
        case "lower": return transform { $0.lowercased() }
        case "title": return transform(\.pythonTitle)
        case "capitalize": return transform(\.pythonCapitalized)
        case "split":
            return bound(name, accepts: ["sep", "maxsplit"]) { args in
                let limit = args.value(1, "maxsplit")?.integer ?? -1
                return .array(try s.pythonSplit(try optionalString(args.value(0, "sep"), name), maxSplit: limit)
                    .map(JinjaValue.string))
            }
        case "splitlines": return bound(name, accepts: []) { _ in .array(s.pythonSplitLines().map(JinjaValue.string)) }
        case "replace":
            return bound(name, accepts: ["old", "new", "count"]) { args in
                guard case .string(let old)? = args.value(0, "old"), case .string(let new)? = args.value(1, "new") else {
                    throw error("replace() arguments must be str")
                }
                return .string(s.pythonReplace(old, new, count: args.value(2, "count")?.integer ?? -1))
            }
        case "find", "count":
            return bound(name, accepts: ["sub"]) { args in
                guard case .string(let sub)? = args.value(0, "sub") else { throw error("\(name)() argument must be str") }
                let pieces = try sub.isEmpty ? [] : s.pythonSplit(sub, maxSplit: name == "find" ? 1 : -1)
                if name == "count" { return .int(sub.isEmpty ? s.unicodeScalars.count + 1 : pieces.count - 1) }
                return .int(sub.isEmpty ? 0 : pieces.count > 1 ? pieces[0].unicodeScalars.count : -1)
            }
        case "join":
            return bound(name, accepts: ["iterable"]) { args in
                let items = try (args.value(0, "iterable") ?? .array([])).iterated()
                return .string(try items.map { item in
                    guard case .string(let text) = item else {
                        throw error("sequence item: expected str instance, \(item.typeName) found")
                    }
                    return text
                }.joined(separator: s))
            }
        case "isdigit", "isalpha", "isspace", "isalnum":
            return bound(name, accepts: []) { _ in
                let test: (Unicode.Scalar) -> Bool = switch name {
                case "isdigit": { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }
                case "isalpha": { $0.properties.isAlphabetic }
                case "isspace": { $0.isPythonWhitespace }
                default: { $0.properties.isAlphabetic || $0.properties.numericType != nil }
                }
                return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(test))
            }
        default: return nil
        }
    }

    private static func dictMethod(_ object: JinjaObject, _ name: String) -> JinjaFunction? {
        switch name {
        case "items":
            return bound(name, accepts: []) { _ in .array(object.pairs.map { .array([.string($0.key), $0.value]) }) }
        case "keys": return bound(name, accepts: []) { _ in .array(object.keys.map(JinjaValue.string)) }
        case "values": return bound(name, accepts: []) { _ in .array(object.pairs.map(\.value)) }
        case "get":
            return bound(name, accepts: ["key", "default"]) { args in
                guard case .string(let key)? = args.value(0, "key") else { return args.value(1, "default") ?? .none }
                return object[key] ?? args.value(1, "default") ?? .none
            }
        default: return nil
        }
    }
}
