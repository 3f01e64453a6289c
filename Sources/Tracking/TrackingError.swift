import Foundation

/// Errors writing or reading a run's logs; each names the file.
public enum TrackingError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case unwritable(file: String, reason: String)
    case unreadable(file: String, reason: String)
    case notARun(directory: String, reason: String)

    public var description: String {
        switch self {
        case let .unwritable(file, reason): return "\(file): cannot write: \(reason)"
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .notARun(directory, reason): return "\(directory): not a training run: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
