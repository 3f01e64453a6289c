import Foundation

/// Errors in training configs and overrides; messages name the file, the key, and the expected
/// and actual values (and the closest valid key for a misspelt one).
public enum ConfigError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case notAMapping(file: String)
    case unknownKey(file: String, key: String, suggestion: String?)
    case badValue(file: String, key: String, expected: String, actual: String)
    case badOverride(String)
    case invalid(file: String, key: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        case .notAMapping(let file): return "\(file): expected a mapping of key: value"
        case .unknownKey(let file, let key, let suggestion):
            return "\(file): unknown key '\(key)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .badValue(let file, let key, let expected, let actual):
            return "\(file): key '\(key)': expected \(expected), got \(actual)"
        case .badOverride(let text): return "--set \(text): expected key=value"
        case .invalid(let file, let key, let reason): return "\(file): key '\(key)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
