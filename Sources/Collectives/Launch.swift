import Foundation

/// How this process was started: by mpirun (or another MPI launcher), or on its own.
public enum Launch {
    /// The variables launchers set in each rank's environment: Open MPI's, then the PMI ones
    /// MPICH's Hydra and Slurm set.
    static let sizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]

    /// The world size an MPI launcher announced, if one started this process.
    public static func launchedSize(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        sizeVariables.lazy.compactMap { environment[$0].flatMap(Int.init) }.first
    }

    /// The communicator of this process: MPI's world when a launcher started it (MPI_Init is
    /// called only then), otherwise the one-rank `SingleProcess`, which never touches MPI.
    public static func communicator(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any Communicator {
        guard launchedSize(environment) != nil else { return SingleProcess() }
        return try MPICommunicator.world()
    }
}
