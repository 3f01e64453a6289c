import CKernels
import Collectives
import Foundation
import TensorCore
import Tracking

/// The one run loop every trainer uses: resume from the latest checkpoint, take optimizer steps
/// until max_steps (or a trainer's stop), average and log metrics every logging_steps
/// (metrics.jsonl and the progress line), evaluate on schedule (at the start with eval_on_start,
/// every eval_steps, at the end), and save checkpoints every save_steps and at the end, keeping
/// save_total_limit. SIGINT or SIGTERM ends the run after the current step with a checkpoint
/// (`TrainingError.interrupted`; a second signal exits at once, leaving the last checkpoint whole).
public struct TrainingLoop {
    /// Where printed lines go (the CLI prints them; line-buffered when stdout is not a terminal).
    public var log: (String) -> Void = { print($0) }
    public var showProgress = true
    /// Called after each optimizer step with its metrics (tests, benchmarks, the demo's curves).
    public var onStep: (Int, [String: Double]) -> Void = { _, _ in }
    /// Ends the run after this step's checkpoint (tests use it to stand for an interruption).
    public var stopAfter: Int?
    /// Extra sinks beside metrics.jsonl.
    public var sinks: [any MetricsSink] = []
    /// Steps (1-based) whose update is refused as if their gradient were NaN: a fault injected by
    /// tests, and by GRPO_INJECT_NONFINITE_STEPS (comma-separated steps) for the CLI.
    public var injectNonfiniteSteps: Set<Int>
    /// The ranks a run launched by mpirun is split over; rank 0 alone prints and writes files.
    public var communicator: any Communicator = SingleProcess()

    public init() {
        let injected = ProcessInfo.processInfo.environment["GRPO_INJECT_NONFINITE_STEPS"] ?? ""
        injectNonfiniteSteps = Set(injected.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
    }

    /// Metrics reported as their last value in a logging window rather than its mean.
    static let lastValueMetrics: Set = ["learning_rate", "grad_norm", "epoch", "wall_time", "train_time", "memory/peak_rss_mb", "num_tokens",
                                  "train/nonfinite_steps"]

    static func isLastValue(_ key: String) -> Bool {
        lastValueMetrics.contains(key) || key.hasSuffix("/failures") || key.hasSuffix("/timeouts")
    }

    /// Trains `algorithm` to max_steps, from the latest checkpoint in output_dir when `resume`.
    @discardableResult
    public func run(_ algorithm: any TrainingAlgorithm, resume: Bool) throws -> RunSummary {
        let settings = algorithm.settings.training
        try algorithm.checkDataParallel(ranks: communicator.size)
        let main = communicator.isMain
        let output = try TrainingCheckpoint.outputFolder(settings.outputDir)
        if main { for line in TrainingCheckpoint.removeUnfinishedWrites(output) { log(line) } }
        try TrainingCheckpoint.claim(output, resume: resume, overwrite: settings.overwriteOutputDir, removing: main)
        var state = TrainerState()
        if resume {
            let (restored, folder) = try TrainingCheckpoint.resume(algorithm.checkpointParts, outputDirectory: output)
            state = restored
            if main { log("resumed from \(folder.lastPathComponent)") }
        }
        state.config = algorithm.settings.entries
        let start = Clock.now(), startStep = state.step
        let bar = ProgressBar(total: settings.maxSteps, startTime: start)
        let log = main ? self.log : { _ in }, showProgress = self.showProgress && main
        let run = TrainingRun(state: state, rowCount: algorithm.rowCount, seed: settings.seed, outputDirectory: output,
                              resumedAt: resume ? state.step : nil, injectedNonfinite: Set(injectNonfiniteSteps.map { $0 - 1 }),
                              communicator: communicator, log: { line in bar.breakLine(); log(line) })
        let nonfinite = NonfiniteSteps(limit: settings.maxNonfiniteSteps)
        ck_catch_stop_signals()
        defer { ck_restore_stop_signals() }
        let sinks = main ? try Self.sinks(settings.reportTo, output: output, resumingAt: resume ? state.step : nil) + self.sinks : []
        try DataParallel.checkWeightsAgree(algorithm.checkpointParts, step: state.step, communicator)
        func write(_ step: Int, _ metrics: [String: Double]) throws {
            do {
                for sink in sinks { try sink.write(step: step, metrics) }
            } catch {
                throw CheckpointError.writing(error, fallback: output, note: "the metrics of step \(step) were not written")
            }
        }

        var summary = RunSummary(steps: startStep, evaluations: [], checkpoint: nil, stopReason: nil)
        // train_time is wall time minus held-out evaluation: the clock learning curves are drawn against.
        // A resumed run's clocks go on from its checkpoint's.
        var evaluationTime = 0.0
        let wallBefore = state.clocks["wall_time"] ?? 0, trainBefore = min(state.clocks["train_time"] ?? 0, wallBefore)
        func clocks() -> [String: Double] {
            let now = Clock.now()
            return ["wall_time": wallBefore + now - start, "train_time": trainBefore + now - start - evaluationTime]
        }
        /// Evaluates; the held-out metrics with the clocks of the moment it began (or of `line`, the
        /// step's logged line they join, so a step has one line and each metric one value a step).
        func evaluate(joining line: [String: Double]?) throws -> (metrics: [String: Double], stopReason: String?)? {
            let before = line ?? clocks(), t0 = Clock.now()
            guard let evaluation = try algorithm.evaluate(run) else { return nil }
            evaluationTime += Clock.now() - t0
            let metrics = evaluation.metrics.merging(before.filter { $0.key == "wall_time" || $0.key == "train_time" }) { _, clock in clock }
            summary.evaluations.append((run.state.step, metrics["train_time"] ?? 0, metrics))
            run.log(evaluation.summary)
            return ((line ?? [:]).merging(metrics) { _, held in held }, evaluation.stopReason)
        }

        if !resume && settings.evalOnStart, let start = try evaluate(joining: nil) { try write(0, start.metrics) }
        var window = MetricsWindow()
        while run.state.step < settings.maxSteps {
            var metrics = try algorithm.step(run)
            run.state.step += 1
            let step = run.state.step
            metrics["train/nonfinite_steps"] = try nonfinite.record(run, step: step)
            metrics.merge(clocks()) { _, clock in clock }
            metrics["epoch"] = run.epochProgress
            metrics["memory/peak_rss_mb"] = Double(Clock.peakRSS()) / 1_048_576
            onStep(step, metrics)
            window.add(metrics)
            var last = step == settings.maxSteps
            // Every rank stops at the same step: the slowest rank's clock decides.
            if settings.maxTrainTime > 0, let trained = try metrics["train_time"].map({ try communicator.allreduce([$0], .max)[0] }),
               trained >= settings.maxTrainTime, !last {
                run.log(String(format: "stopping at step %d: %.0f s of training reached max_train_time", step, trained))
                summary.stopReason = "max_train_time"
                last = true
            }
            var line: [String: Double]?
            if step % settings.loggingSteps == 0 || last {
                try DataParallel.checkWeightsAgree(algorithm.checkpointParts, step: step, communicator)
                let logged = window.flush(lastValue: Self.isLastValue)
                line = logged
                if showProgress {
                    // Elapsed time and ETA in training time: evaluations do not stretch the estimate,
                    // and max_train_time caps it.
                    let timeLeft = settings.maxTrainTime > 0 ? settings.maxTrainTime - (clocks()["train_time"] ?? 0) : nil
                    bar.show(bar.line(step: step, startStep: startStep, now: Clock.now() - evaluationTime,
                                      figures: algorithm.progressFigures(logged), timeLeft: timeLeft), step: step)
                }
            }
            if (settings.evalSteps > 0 && step % settings.evalSteps == 0) || last, let evaluation = try evaluate(joining: line) {
                line = evaluation.metrics
                if let reason = evaluation.stopReason, !last {
                    run.log("stopping at step \(step): \(reason)")
                    summary.stopReason = reason
                    last = true
                }
            }
            if let line { try write(step, line) }
            // A signal may reach the ranks at different steps: all stop at the first step any saw it.
            let signal = communicator.size > 1 ? Int(try communicator.allreduce([Double(ck_stop_signal())], .max)[0]) : Int(ck_stop_signal())
            if (step % settings.saveSteps == 0 || last || signal != 0) && main {
                run.state.clocks = clocks()
                let folder = try TrainingCheckpoint.save(algorithm.checkpointParts, state: run.state, outputDirectory: output,
                                                         keep: settings.saveTotalLimit, previous: summary.checkpoint)
                summary.checkpoint = folder
                if last { run.log("saved \(folder.path)") }
            }
            summary.steps = step
            if last { break }
            // (Ranks other than 0 report the checkpoint rank 0 wrote.)
            if signal != 0, let checkpoint = summary.checkpoint ?? (main ? nil : output.appendingPathComponent("checkpoint-\(step)")) {
                throw TrainingError.interrupted(signal: signal, step: step, checkpoint: checkpoint.path)
            }
            if let stopAfter, step >= stopAfter { break }
        }
        return summary
    }

    /// The sinks `report_to` names.
    static func sinks(_ reportTo: [MetricsReport], output: URL, resumingAt step: Int?) throws -> [any MetricsSink] {
        try reportTo.compactMap { report in
            switch report {
            case .jsonl: return try MetricsLog(url: output.appendingPathComponent("metrics.jsonl"), resumingAt: step)
            case .tensorboard: return try EventFileWriter(directory: output)
            case .none: return nil
            }
        }
    }
}

/// The metrics of the steps since the last logged line: each key's mean, or its last value.
struct MetricsWindow {
    private var entries: [String: (sum: Double, count: Int, last: Double)] = [:]

    mutating func add(_ metrics: [String: Double]) {
        for (key, value) in metrics {
            let e = entries[key] ?? (0, 0, 0)
            entries[key] = (e.sum + value, e.count + 1, value)
        }
    }

    /// The window's line (means, and last values where `lastValue(key)`); empties the window.
    mutating func flush(lastValue: (String) -> Bool) -> [String: Double] {
        defer { entries = [:] }
        return entries.mapValues { $0.count > 0 ? $0.sum / Double($0.count) : .nan }
            .merging(entries.filter { lastValue($0.key) }.mapValues(\.last)) { _, last in last }
    }
}
