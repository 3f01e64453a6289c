/// One documented setting of a config type `Root`: its name (TRL's snake_case where TRL has one),
/// where it lives in `Root` (whose property declares its type and default), its help, and an
/// optional rule on its value. Declared once; parsing, checking, `--help` and `--print-config`
/// all come from it.
public struct SettingKey<Root> {
    public let name: String
    public let help: String
    /// What a value must be: "an integer >= 1", "one of k1, k2, k3".
    public let expected: String
    /// Sets the key in `root`; the reason when `value` does not fit.
    let assign: (inout Root, SettingValue) -> String?
    /// The key's value in `root`.
    let read: (Root) -> SettingValue
    /// Why the key's value in `root` breaks its rule (nil: it does not).
    let check: (Root) -> String?

    /// A key for `path`; `rule` returns a reason a parsed value is out of range (nil: fine), and
    /// `ruleText` says the rule in words for `--help` and errors (">= 1").
    public init<V: SettingType>(_ name: String, _ path: WritableKeyPath<Root, V>, help: String,
                                rule: SettingRule<V> = .any) {
        self.name = name
        self.help = help
        expected = V.expected + (rule.text.isEmpty ? "" : " " + rule.text)
        let expected = self.expected
        assign = { root, raw in
            guard let value = V(setting: raw) else { return "expected \(expected), got \(raw)" }
            if let reason = rule.check(value) { return "expected \(expected), got \(raw)" + (reason.isEmpty ? "" : " (\(reason))") }
            root[keyPath: path] = value
            return nil
        }
        read = { $0[keyPath: path].setting }
        check = { root in rule.check(root[keyPath: path]).map { $0.isEmpty ? "expected \(expected), got \(root[keyPath: path].setting)" : $0 } }
    }

    private init(name: String, help: String, expected: String, assign: @escaping (inout Root, SettingValue) -> String?,
                 read: @escaping (Root) -> SettingValue, check: @escaping (Root) -> String?) {
        self.name = name
        self.help = help
        self.expected = expected
        self.assign = assign
        self.read = read
        self.check = check
    }

    /// The same key on a type that holds a `Root` at `path` (how shared settings compose).
    public func lifted<Outer>(_ path: WritableKeyPath<Outer, Root>) -> SettingKey<Outer> {
        let (assign, read, check) = (self.assign, self.read, self.check)
        return SettingKey<Outer>(name: name, help: help, expected: expected,
                                 assign: { outer, raw in assign(&outer[keyPath: path], raw) },
                                 read: { read($0[keyPath: path]) }, check: { check($0[keyPath: path]) })
    }
}

/// A rule on a setting's value beyond its type.
public struct SettingRule<V> {
    /// The rule in words, appended to the type ("an integer >= 1").
    public let text: String
    /// nil when the value is fine, else a reason (may be empty: the text says it all).
    public let check: (V) -> String?

    public init(_ text: String, _ check: @escaping (V) -> String?) {
        self.text = text
        self.check = check
    }

    public static var any: SettingRule { SettingRule("") { _ in nil } }
}

extension SettingRule where V: Comparable & CustomStringConvertible {
    /// value >= low.
    public static func atLeast(_ low: V) -> SettingRule { SettingRule(">= \(low)") { $0 >= low ? nil : "" } }
    /// low <= value <= high.
    public static func within(_ range: ClosedRange<V>) -> SettingRule {
        SettingRule("in [\(range.lowerBound), \(range.upperBound)]") { range.contains($0) ? nil : "" }
    }
}

extension SettingRule where V == Double {
    /// value > 0.
    public static var positive: SettingRule { SettingRule("> 0") { $0 > 0 ? nil : "" } }
    /// 0 <= value < 1 (AdamW's betas).
    public static var unitInterval: SettingRule { SettingRule("in [0, 1)") { $0 >= 0 && $0 < 1 ? nil : "" } }
}

extension SettingRule where V == Double? {
    /// nil, or a value >= low.
    public static func atLeast(_ low: Double) -> SettingRule { SettingRule(">= \(low)") { ($0 ?? low) >= low ? nil : "" } }
    public static var positive: SettingRule { SettingRule("> 0") { ($0 ?? 1) > 0 ? nil : "" } }
}

extension SettingRule where V == String {
    /// A non-empty string (a required path).
    public static var required: SettingRule {
        SettingRule("(required)") { $0.isEmpty ? "required: set it in the config file or with --set" : nil }
    }
}
