import Foundation

/// Errors reading or writing training checkpoints.
public enum CheckpointError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case corrupt(file: String, reason: String)
    case noCheckpoint(directory: String)
    case mismatch(file: String, reason: String)
    case unwritable(file: String, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .noCheckpoint(let directory): return "\(directory): no checkpoint-<step> folder to resume from"
        case .mismatch(let file, let reason): return "\(file): does not match this run: \(reason)"
        case .unwritable(let file, let reason): return "\(file): cannot write: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
