/// A Swift type a setting can hold, with how it reads from a `SettingValue` and writes back.
public protocol SettingType {
    /// The value, or nil when `setting` is not one (the key's error then says what was expected).
    init?(setting: SettingValue)
    var setting: SettingValue { get }
    /// What a value looks like, for errors and `--help`: "an integer", "one of k1, k2, k3".
    static var expected: String { get }
}

extension Int: SettingType {
    public init?(setting: SettingValue) {
        switch setting {
        case .int(let v): self = v
        case .double(let v) where v.rounded() == v && abs(v) < 9.0e15: self = Int(v)
        case .string(let s): guard let v = Int(s) else { return nil }; self = v
        default: return nil
        }
    }
    public var setting: SettingValue { .int(self) }
    public static var expected: String { "an integer" }
}

extension Double: SettingType {
    public init?(setting: SettingValue) {
        switch setting {
        case .int(let v): self = Double(v)
        case .double(let v): self = v
        // YAML 1.1 reads `1e-5` (no dot) as a string.
        case .string(let s): guard let v = Double(s), v.isFinite else { return nil }; self = v
        default: return nil
        }
    }
    public var setting: SettingValue { .double(self) }
    public static var expected: String { "a number" }
}

extension Bool: SettingType {
    public init?(setting: SettingValue) {
        guard case .bool(let v) = setting else { return nil }
        self = v
    }
    public var setting: SettingValue { .bool(self) }
    public static var expected: String { "true or false" }
}

extension String: SettingType {
    public init?(setting: SettingValue) {
        switch setting {
        case .string(let v): self = v
        case .int(let v): self = String(v)
        default: return nil
        }
    }
    public var setting: SettingValue { .string(self) }
    public static var expected: String { "a string" }
}

extension Optional: SettingType where Wrapped: SettingType {
    public init?(setting: SettingValue) {
        if case .null = setting { self = .none; return }
        guard let v = Wrapped(setting: setting) else { return nil }
        self = .some(v)
    }
    public var setting: SettingValue { map(\.setting) ?? .null }
    public static var expected: String { "\(Wrapped.expected) or null" }
}

extension Array: SettingType where Element: SettingType {
    /// A YAML list; on the command line also one value, or several separated by commas.
    public init?(setting: SettingValue) {
        switch setting {
        case .list(let items):
            let values = items.compactMap(Element.init(setting:))
            guard values.count == items.count else { return nil }
            self = values
        case .string(let s) where s.contains(","):
            self.init(setting: .list(s.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }))
        case .null: self = []
        default:
            guard let one = Element(setting: setting) else { return nil }
            self = [one]
        }
    }
    public var setting: SettingValue { .list(map(\.setting)) }
    public static var expected: String { "a list of \(Element.expected.replacingOccurrences(of: "a ", with: "").replacingOccurrences(of: "an ", with: ""))s" }
}

/// An enum setting: one of its raw values; `--help` and errors list them from the cases.
public protocol SettingChoice: SettingType, RawRepresentable<String>, CaseIterable {}

extension SettingChoice {
    public init?(setting: SettingValue) {
        guard case .string(let s) = setting, let v = Self(rawValue: s) else { return nil }
        self = v
    }
    public var setting: SettingValue { .string(rawValue) }
    public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
}

import Foundation
