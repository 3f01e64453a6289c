import Foundation

/// Errors in training configs and overrides; each names where the value came from (a file, or
/// `--set`), the key, and the expected and given values (and the nearest valid key for a
/// misspelt one).
public enum SettingsError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case notAMapping(file: String)
    case unknownKey(source: String, key: String, suggestion: String?)
    case badValue(source: String, key: String, reason: String)
    case badOverride(String)
    /// A value that passed its key's rule but not a rule across keys.
    case invalid(source: String, key: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        case .notAMapping(let file): return "\(file): expected a mapping of key: value"
        case .unknownKey(let source, let key, let suggestion):
            return "\(source): unknown key '\(key)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .badValue(let source, let key, let reason): return "\(source): key '\(key)': \(reason)"
        case .badOverride(let text): return "--set \(text): expected key=value"
        case .invalid(let source, let key, let reason): return "\(source): key '\(key)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// A cross-key rule broken: `validate()` throws it; `resolve` adds where the key was set.
public struct InvalidSetting: Error {
    public let key: String
    public let reason: String

    public init(_ key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }
}
