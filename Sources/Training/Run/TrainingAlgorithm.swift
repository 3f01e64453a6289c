import Collectives
import Foundation
import TensorCore
import Tracking

/// What a trainer plugs into `TrainingLoop`: its optimizer step, its held-out evaluation and the parts
/// its checkpoints hold. The loop owns the rest (data order, progress, metrics, evaluation
/// schedule, checkpoints, stops), so a trainer file holds only its algorithm.
public protocol TrainingAlgorithm: AnyObject {
    /// The trainer's settings (the shared ones in `.training`).
    var settings: any TrainerSettings { get }
    /// Rows the data order walks each epoch.
    var rowCount: Int { get }
    /// What a checkpoint holds besides the run state.
    var checkpointParts: [any CheckpointPart] { get }
    /// One optimizer step; its metrics (TRL names). `run.state.step` is the step's 0-based index
    /// (the loop advances it afterwards).
    func step(_ run: TrainingRun) throws -> [String: Double]
    /// Held-out figures after `run.state.step` steps; nil when there is no held-out data.
    func evaluate(_ run: TrainingRun) throws -> HeldOutEvaluation?
    /// The progress line's figures, from a logged step's metrics.
    func progressFigures(_ metrics: [String: Double]) -> [(String, String)]
    /// Throws unless the trainer can split its steps over `ranks` processes (`DataParallel`).
    func checkDataParallel(ranks: Int) throws
}

extension TrainingAlgorithm {
    /// Trains with the shared run loop (`loop` sets where lines go, hooks and extra sinks), from
    /// the latest checkpoint in output_dir when `resume`.
    @discardableResult
    public func train(resume: Bool = false, loop: TrainingLoop = TrainingLoop()) throws -> RunSummary {
        try loop.run(self, resume: resume)
    }
}

/// A trainer's settings: its keys, holding the shared `TrainingConfig`.
public protocol TrainerSettings: Configurable {
    var training: TrainingConfig { get }
}

/// One held-out evaluation: its metrics (eval/...), a line for the console, and a reason to stop
/// the run here, if the trainer has one (SFT's stop_at_eval_accuracy).
public struct HeldOutEvaluation: Sendable {
    public var metrics: [String: Double]
    public var summary: String
    public var stopReason: String?

    public init(metrics: [String: Double], summary: String, stopReason: String? = nil) {
        self.metrics = metrics
        self.summary = summary
        self.stopReason = stopReason
    }
}

/// The run as a trainer's step sees it: the checkpointed state (step, data cursor, generators)
/// and where printed lines go.
public final class TrainingRun {
    public internal(set) var state: TrainerState
    public let log: (String) -> Void
    /// The run's output_dir.
    public let outputDirectory: URL
    /// The ranks the run is split over (`SingleProcess` when not launched by mpirun).
    public let communicator: any Communicator
    /// The step a resume started from (nil for a fresh run).
    let resumedAt: Int?
    /// 0-based steps whose updates are refused as if their gradient were NaN (faults injected by tests).
    let injectedNonfinite: Set<Int>
    /// This step's refused updates: the loss and gradient norm of each.
    var refusedUpdates: [(loss: Double, gradNorm: Double)] = []
    private var dataOrder: DataOrder
    private var completions: StepLog?

    init(state: TrainerState, rowCount: Int, seed: Int, outputDirectory: URL, resumedAt: Int? = nil,
         injectedNonfinite: Set<Int> = [], communicator: any Communicator = SingleProcess(), log: @escaping (String) -> Void) {
        self.state = state
        self.communicator = communicator
        self.log = log
        self.outputDirectory = outputDirectory
        self.resumedAt = resumedAt
        self.injectedNonfinite = injectedNonfinite
        dataOrder = DataOrder(count: rowCount, seed: seed)
    }

    /// Appends rows to the run's completions.jsonl (opened on first use; on resume, lines past the
    /// checkpoint are dropped first).
    public func logCompletions(_ rows: [[String: JSONLine]]) throws {
        guard communicator.isMain else { return }
        if completions == nil {
            completions = try StepLog(url: outputDirectory.appendingPathComponent("completions.jsonl"), resumingAt: resumedAt)
        }
        try completions?.append(rows)
    }

    /// The next `n` row indices in the seeded epoch order (checkpointed, so a resume continues it).
    public func nextRows(_ n: Int) -> [Int] { dataOrder.next(n, state: &state) }

    /// Runs `body` with the named generator (seeded with `seed` on first use); its new state is
    /// checkpointed.
    public func withGenerator<T>(_ name: String, seed: UInt64, _ body: (inout SeededGenerator) throws -> T) rethrows -> T {
        var rng = state.generators[name] ?? SeededGenerator(seed: seed)
        defer { state.generators[name] = rng }
        return try body(&rng)
    }

    /// Whether an MPI launcher started the run (even with one rank): its samplers then draw a
    /// stream per row, so the samples do not depend on how many ranks share the batch.
    var isDataParallel: Bool { !(communicator is SingleProcess) }

    /// Epochs done, with the fraction of the current one.
    var epochProgress: Double { Double(state.epoch) + Double(state.position) / Double(max(dataOrder.count, 1)) }
}

/// What a finished run reports.
public struct RunSummary: Sendable {
    /// Optimizer steps taken in all.
    public var steps: Int
    /// Every held-out evaluation of this process: step, training time (wall time minus evaluation)
    /// and metrics.
    public var evaluations: [(step: Int, trainTime: Double, metrics: [String: Double])]
    /// The last checkpoint written.
    public var checkpoint: URL?
    /// Why the run ended before max_steps, if it did.
    public var stopReason: String?
}
