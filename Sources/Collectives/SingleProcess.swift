#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one-rank communicator of a run not launched by mpirun: every collective is the identity,
/// so the trainers run exactly as without data parallelism.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    public func allreduce(_ values: [Double], _ op: ReductionOp) throws -> [Double] { values }
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allgather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
        receive.copyMemory(from: send)
    }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}
