import CMPI

/// MPI_COMM_WORLD of a run started by mpirun. MPI errors are returned (MPI_ERRORS_RETURN) and
/// thrown as `CollectiveError.mpi` with MPI's message, instead of aborting inside the library.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    /// MPI_COMM_WORLD (a pointer in Open MPI, an int in MPICH: asked for at each call).
    private var comm: MPI_Comm { grpo_mpi_comm_world() }
    /// The largest message of one MPI call, in elements: counts are C ints, and large gradient
    /// buffers go in buckets of this size.
    static let bucket = 1 << 26

    /// The world communicator (MPI_Init on first use; one per process).
    public static func world() throws -> MPICommunicator {
        if let shared { return shared }
        var initialized: Int32 = 0
        try check("MPI_Initialized", MPI_Initialized(&initialized))
        if initialized == 0 { try check("MPI_Init", MPI_Init(nil, nil)) }
        let comm = grpo_mpi_comm_world()
        try check("MPI_Comm_set_errhandler", MPI_Comm_set_errhandler(comm, grpo_mpi_errors_return()))
        var rank: Int32 = 0, size: Int32 = 0
        try check("MPI_Comm_rank", MPI_Comm_rank(comm, &rank))
        try check("MPI_Comm_size", MPI_Comm_size(comm, &size))
        let world = MPICommunicator(rank: Int(rank), size: Int(size))
        shared = world
        return world
    }

    nonisolated(unsafe) private static var shared: MPICommunicator?

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// Ends MPI for this process (after the last collective; every rank calls it).
    public static func finalize() throws {
        guard shared != nil else { return }
        var finalized: Int32 = 0
        try check("MPI_Finalized", MPI_Finalized(&finalized))
        if finalized == 0 { try check("MPI_Finalize", MPI_Finalize()) }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        for start in stride(from: 0, to: count, by: Self.bucket) {
            let n = Int32(min(Self.bucket, count - start))
            try Self.check("MPI_Allreduce", MPI_Allreduce(grpo_mpi_in_place(), buffer + start, n, grpo_mpi_float(), grpo_mpi_sum(), comm))
        }
    }

    public func allreduce(_ values: [Double], _ op: ReductionOp) throws -> [Double] {
        guard values.count <= Self.bucket else {
            throw CollectiveError.invalidArgument(call: "MPI_Allreduce", reason: "\(values.count) doubles; at most \(Self.bucket) in one call")
        }
        var result = values
        let mpiOp: MPI_Op
        switch op {
        case .sum: mpiOp = grpo_mpi_sum()
        case .max: mpiOp = grpo_mpi_max()
        case .min: mpiOp = grpo_mpi_min()
        }
        try result.withUnsafeMutableBufferPointer { buffer in
            try Self.check("MPI_Allreduce",
                           MPI_Allreduce(grpo_mpi_in_place(), buffer.baseAddress, Int32(values.count), grpo_mpi_double(), mpiOp, comm))
        }
        return result
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard (0..<size).contains(root) else {
            throw CollectiveError.invalidArgument(call: "MPI_Bcast", reason: "root \(root) is not a rank of \(size)")
        }
        for start in stride(from: 0, to: bytes.count, by: Self.bucket) {
            let n = Int32(min(Self.bucket, bytes.count - start))
            try Self.check("MPI_Bcast", MPI_Bcast(bytes.baseAddress! + start, n, grpo_mpi_byte(), Int32(root), comm))
        }
    }

    public func allgather(_ send: UnsafeRawBufferPointer, into receive: UnsafeMutableRawBufferPointer) throws {
        guard receive.count == send.count * size, send.count <= Self.bucket else {
            throw CollectiveError.invalidArgument(call: "MPI_Allgather",
                                                  reason: "\(send.count) bytes a rank into \(receive.count); expected \(send.count * size), at most \(Self.bucket) a rank")
        }
        guard send.count > 0 else { return }
        try Self.check("MPI_Allgather", MPI_Allgather(send.baseAddress, Int32(send.count), grpo_mpi_byte(),
                                                      receive.baseAddress, Int32(send.count), grpo_mpi_byte(), comm))
    }

    public func barrier() throws { try Self.check("MPI_Barrier", MPI_Barrier(comm)) }

    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        fatalError("MPI_Abort returned")  // MPI_Abort does not return; the compiler cannot know it.
    }

    /// Throws MPI's message for a failed call.
    static func check(_ call: String, _ code: Int32) throws {
        guard code != grpo_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(grpo_mpi_max_error_string()) + 1), length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw CollectiveError.mpi(call: call, code: code, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
