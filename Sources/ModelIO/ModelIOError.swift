import Foundation

/// Errors from reading and writing checkpoints and configs. Each message names the file, the
/// tensor or field, and the expected and actual values.
public enum ModelIOError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case corrupt(file: String, reason: String)
    case badTensor(file: String, tensor: String, reason: String)
    case unsupportedDType(file: String, tensor: String, dtype: String)
    case missingTensor(file: String, tensor: String)
    case unusedTensors(file: String, tensors: [String])
    case shapeMismatch(tensor: String, actual: [Int], expected: [Int])
    case config(file: String, field: String, reason: String)
    case unsupported(file: String, field: String, value: String)
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        case .corrupt(let file, let reason): return "\(file): corrupt or truncated: \(reason)"
        case .badTensor(let file, let tensor, let reason): return "\(file): tensor '\(tensor)': \(reason)"
        case .unsupportedDType(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)' has dtype \(dtype); supported: F32, F16, BF16"
        case .missingTensor(let file, let tensor): return "\(file): tensor '\(tensor)' not found"
        case .unusedTensors(let file, let tensors):
            let shown = tensors.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
            return "\(file): \(tensors.count) tensor(s) not used by the model: \(shown)\(tensors.count > 5 ? ", ..." : "")"
        case .shapeMismatch(let tensor, let actual, let expected):
            return "tensor '\(tensor)' has shape \(actual), expected \(expected)"
        case .config(let file, let field, let reason): return "\(file): field '\(field)': \(reason)"
        case .unsupported(let file, let field, let value): return "\(file): unsupported \(field) \(value)"
        case .writeFailed(let file, let reason): return "\(file): cannot write: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
