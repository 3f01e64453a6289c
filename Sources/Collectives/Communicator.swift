/// The collectives data-parallel training needs, over the processes of one run (ranks 0..<size):
/// a sum over a flat Float buffer (the gradients), reductions of a few Doubles (metrics,
/// normalisers), a broadcast and an allgather of small arrays, and a barrier. Every rank calls
/// the same collectives in the same order with the same sizes.
public protocol Communicator: AnyObject {
    /// This process's index, 0..<size; rank 0 alone writes files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `count` floats at `buffer` with their sum over all ranks, on every rank.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws
    /// The element-wise `op` of `values` over all ranks (every rank passes the same count).
    func allreduce(_ values: [Double], _ op: ReductionOp) throws -> [Double]
    /// Copies root's `bytes` into every rank's (the same count on every rank).
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank's `send` bytes (the same count on every rank), in rank order, into `receive`
    /// (size x send.count bytes).
    func allgather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Ends every rank of the run (a rank that fails must not leave the others waiting in a collective).
    func abort(code: Int32) -> Never
}

public enum ReductionOp: Sendable {
    case sum, max, min
}

extension Communicator {
    /// Whether this rank writes the run's files and prints its lines.
    public var isMain: Bool { rank == 0 }

    /// Every rank's `values` in rank order; ranks may pass different counts.
    public func allgather<T: BitwiseCopyable>(_ values: [T]) throws -> [[T]] {
        guard size > 1 else { return [values] }
        let counts = try allgatherBytes(withUnsafeBytes(of: Int64(values.count)) { Array($0) }, width: 8).map { bytes in
            Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int64.self) })
        }
        let stride = MemoryLayout<T>.stride, width = (counts.max() ?? 0) * stride
        guard width > 0 else { return counts.map { _ in [] } }
        let gathered = try allgatherBytes(values.withUnsafeBytes { Array($0) }, width: width)
        return zip(gathered, counts).map { bytes, n in
            bytes.withUnsafeBytes { raw in (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * stride, as: T.self) } }
        }
    }

    /// Every rank's bytes, each padded with zeros to `width`, in rank order.
    private func allgatherBytes(_ bytes: [UInt8], width: Int) throws -> [[UInt8]] {
        let send = bytes + [UInt8](repeating: 0, count: width - bytes.count)
        var all = [UInt8](repeating: 0, count: width * size)
        try send.withUnsafeBytes { s in try all.withUnsafeMutableBytes { try allgather(s, into: $0) } }
        return (0..<size).map { Array(all[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// Root's `values` on every rank (the same count on each).
    public func broadcast<T: BitwiseCopyable>(_ values: inout [T], root: Int = 0) throws {
        guard size > 1 else { return }
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    /// The sum of one Double over all ranks.
    public func sum(_ value: Double) throws -> Double { try allreduce([value], .sum)[0] }
}
