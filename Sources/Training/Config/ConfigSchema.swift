import Foundation
import Yams

/// A typed configuration value.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case strings([String])
    case doubles([Double])
    case none

    public var description: String {
        switch self {
        case .int(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .string(let v): return v
        case .bool(let v): return "\(v)"
        case .strings(let v): return "[\(v.joined(separator: ", "))]"
        case .doubles(let v): return "[\(v.map { "\($0)" }.joined(separator: ", "))]"
        case .none: return "null"
        }
    }

    /// As JSON-compatible Foundation values (for trainer_state.json).
    public var jsonObject: Any {
        switch self {
        case .int(let v): return v
        case .double(let v): return v
        case .string(let v): return v
        case .bool(let v): return v
        case .strings(let v): return v
        case .doubles(let v): return v
        case .none: return NSNull()
        }
    }
}

/// One documented config key: its name (TRL's snake_case where TRL has one), kind, default and help.
public struct ConfigKey: Sendable {
    public enum Kind: Sendable, Equatable {
        case int, double, string, bool, strings, doubles
        /// One of the listed strings.
        case choice([String])
        /// A string or nothing.
        case optionalString
        /// A number or nothing.
        case optionalDouble
    }

    public let name: String
    public let kind: Kind
    public let defaultValue: ConfigValue
    public let help: String

    public init(_ name: String, _ kind: Kind, _ defaultValue: ConfigValue, _ help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    var expected: String {
        switch kind {
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .bool: return "true or false"
        case .strings: return "a list of strings"
        case .doubles: return "a list of numbers"
        case .choice(let options): return "one of \(options.joined(separator: ", "))"
        case .optionalString: return "a string or null"
        case .optionalDouble: return "a number or null"
        }
    }
}

/// The keys a trainer accepts; parses YAML files and `--set key=value` overrides into checked values.
public struct ConfigSchema: Sendable {
    public let keys: [ConfigKey]

    public init(_ keys: [ConfigKey]) { self.keys = keys }

    func key(_ name: String) -> ConfigKey? { keys.first { $0.name == name } }

    /// Every key with its default and help, for `--help` and docs.
    public var documentation: String {
        keys.map { "  \($0.name) (default \($0.defaultValue)): \($0.help)" }.joined(separator: "\n")
    }

    /// Reads `file` (YAML mapping; nil for defaults only), then applies overrides in order.
    public func resolve(file: URL?, overrides: [String]) throws -> ResolvedConfig {
        var values = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0.defaultValue) })
        var explicit = Set<String>()
        if let file {
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                throw ConfigError.unreadable(file: file.path, reason: error.localizedDescription)
            }
            let node: Any?
            do { node = try Yams.load(yaml: text) } catch {
                throw ConfigError.unreadable(file: file.path, reason: "YAML: \(error)")
            }
            if let node {
                guard let mapping = node as? [String: Any] else { throw ConfigError.notAMapping(file: file.path) }
                for (name, raw) in mapping.sorted(by: { $0.key < $1.key }) {
                    values[name] = try value(name, raw, source: file.path)
                    explicit.insert(name)
                }
            }
        }
        for override in overrides {
            guard let eq = override.firstIndex(of: "="), eq != override.startIndex else { throw ConfigError.badOverride(override) }
            let name = String(override[..<eq]), text = String(override[override.index(after: eq)...])
            let parsed = (try? Yams.load(yaml: text)) ?? text
            values[name] = try value(name, parsed ?? NSNull(), source: "--set")
            explicit.insert(name)
        }
        return ResolvedConfig(values: values, explicit: explicit, source: file?.path ?? "defaults")
    }

    /// Checks one raw YAML value against its key.
    func value(_ name: String, _ raw: Any, source: String) throws -> ConfigValue {
        guard let key = key(name) else {
            throw ConfigError.unknownKey(file: source, key: name, suggestion: closest(to: name))
        }
        let bad = ConfigError.badValue(file: source, key: name, expected: key.expected, actual: Self.show(raw))
        switch key.kind {
        case .int:
            if let v = raw as? Int, !(raw is Bool) { return .int(v) }
            throw bad
        case .double:
            if let v = raw as? Int, !(raw is Bool) { return .double(Double(v)) }
            if let v = raw as? Double { return .double(v) }
            throw bad
        case .optionalDouble:
            if raw is NSNull { return .none }
            if let v = raw as? Int, !(raw is Bool) { return .double(Double(v)) }
            if let v = raw as? Double { return .double(v) }
            throw bad
        case .bool:
            if let v = raw as? Bool { return .bool(v) }
            throw bad
        case .string:
            if let v = raw as? String { return .string(v) }
            if let v = raw as? Int { return .string(String(v)) }
            throw bad
        case .optionalString:
            if raw is NSNull { return .none }
            if let v = raw as? String { return .string(v) }
            throw bad
        case .choice(let options):
            if let v = raw as? String, options.contains(v) { return .string(v) }
            throw bad
        case .strings:
            if let v = raw as? [String] { return .strings(v) }
            if let v = raw as? String { return .strings(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            throw bad
        case .doubles:
            if let v = raw as? [Any] {
                let numbers = v.compactMap { ($0 as? Double) ?? ($0 as? Int).map(Double.init) }
                if numbers.count == v.count { return .doubles(numbers) }
            }
            if let v = raw as? Double { return .doubles([v]) }
            if let v = raw as? Int { return .doubles([Double(v)]) }
            throw bad
        }
    }

    /// The valid key nearest by edit distance, if reasonably near.
    func closest(to name: String) -> String? {
        let scored = keys.map { ($0.name, editDistance(name, $0.name)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, name.count / 2) else { return nil }
        return best
    }

    static func show(_ raw: Any) -> String {
        if raw is NSNull { return "null" }
        if let s = raw as? String { return "'\(s)'" }
        return "\(raw)"
    }
}

/// Levenshtein distance between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Checked config values by key.
public struct ResolvedConfig: Sendable {
    public let values: [String: ConfigValue]
    /// Keys set by the file or an override (the rest are defaults).
    public let explicit: Set<String>
    public let source: String

    public func int(_ key: String) -> Int {
        if case .int(let v) = values[key] { return v }
        preconditionFailure("config key '\(key)' is not an int in the schema")
    }

    public func double(_ key: String) -> Double {
        if case .double(let v) = values[key] { return v }
        preconditionFailure("config key '\(key)' is not a number in the schema")
    }

    public func optionalDouble(_ key: String) -> Double? {
        if case .double(let v) = values[key] { return v }
        return nil
    }

    public func string(_ key: String) -> String {
        if case .string(let v) = values[key] { return v }
        preconditionFailure("config key '\(key)' is not a string in the schema")
    }

    public func optionalString(_ key: String) -> String? {
        if case .string(let v) = values[key] { return v }
        return nil
    }

    public func bool(_ key: String) -> Bool {
        if case .bool(let v) = values[key] { return v }
        preconditionFailure("config key '\(key)' is not a bool in the schema")
    }

    public func strings(_ key: String) -> [String] {
        if case .strings(let v) = values[key] { return v }
        return []
    }

    public func doubles(_ key: String) -> [Double] {
        if case .doubles(let v) = values[key] { return v }
        return []
    }

    /// All values as a JSON object (for trainer_state.json).
    public var jsonObject: [String: Any] { values.mapValues(\.jsonObject) }

    /// An error about a key's value that passed the type check but not the trainer's rules.
    public func invalid(_ key: String, _ reason: String) -> ConfigError {
        .invalid(file: source, key: key, reason: reason)
    }
}
