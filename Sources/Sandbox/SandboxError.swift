import Foundation

/// The Sandbox module's errors.
public enum SandboxError: Error, LocalizedError, CustomStringConvertible, Equatable {
    /// No isolation layer is available and running unconfined was not allowed.
    case noIsolation(reason: String)
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .noIsolation(let reason):
            return "no sandbox isolation is available (\(reason)); install bubblewrap (apt-get install bubblewrap), run as root for "
                + "unshare, or allow running unconfined (sandbox_unconfined: true / --unconfined), which contains nothing"
        case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
