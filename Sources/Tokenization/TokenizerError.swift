import Foundation

/// Errors from reading tokenizer files and chat templates; every message names the file or template
/// and the offending component or value.
public enum TokenizerError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case malformed(file: String, field: String, reason: String)
    case unsupported(file: String, component: String, type: String)
    /// A known component with an option value we do not implement (e.g. BPE dropout > 0).
    case unsupportedOption(file: String, field: String, value: String)
    case template(message: String, line: Int?)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        case .malformed(let file, let field, let reason): return "\(file): field '\(field)': \(reason)"
        case .unsupported(let file, let component, let type): return "\(file): unsupported \(component) type '\(type)'"
        case .unsupportedOption(let file, let field, let value):
            return "\(file): field '\(field)': unsupported value \(value)"
        case .template(let message, let line): return "chat template\(line.map { " line \($0)" } ?? ""): \(message)"
        }
    }

    public var errorDescription: String? { description }
}
