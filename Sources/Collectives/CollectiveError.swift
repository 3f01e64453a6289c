/// What goes wrong between ranks: an MPI call that failed (with MPI's own message), or a
/// collective called with sizes the ranks do not agree on.
public enum CollectiveError: Error, CustomStringConvertible, Equatable {
    case mpi(call: String, code: Int32, message: String)
    case invalidArgument(call: String, reason: String)

    public var description: String {
        switch self {
        case .mpi(let call, let code, let message): return "\(call) failed (MPI error \(code)): \(message)"
        case .invalidArgument(let call, let reason): return "\(call): \(reason)"
        }
    }
}
