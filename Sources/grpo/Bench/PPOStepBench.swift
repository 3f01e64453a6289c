import ArgumentParser
import Foundation
import Rewards
import Tasks
import TensorCore
import Training
import Transformer

/// `grpo bench ppo-step`: one PPO update on the tiny preset with random weights, as TRL's PPOTrainer
/// is measured (Scripts/bench_trl_ppo_step.py): 64 prompts of 20 tokens x 1 response of <= 32
/// tokens, 4 epochs over micro-batches of 16, temperature 1, k1 KL 0.05, and a reward model of the
/// policy's size scoring prompt + response (TRL's PPOTrainer scores with a reward model, so ours does
/// the same work here).
struct PPOStepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-step", abstract: "Measure one PPO update (rollout, reward model, 4 epochs of policy and value) on the tiny preset.")

    @Option(help: "Timed updates (median reported).") var steps = 5
    @Option(help: "Untimed warm-up updates.") var warmup = 1
    @Flag(help: "Then run TRL 1.12's PPOTrainer with the same settings (Scripts/bench_trl_ppo_step.py in a venv with trl 1.12) and print the ratios.")
    var trl = false
    @Option(help: "The Python that runs the TRL script (a venv with trl==1.12.*: TRL 1.13+ has no PPOTrainer).")
    var python = "/work/venvs/trl112/bin/python"
    @Option(help: "The TRL script.") var trlScript = "Scripts/bench_trl_ppo_step.py"
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be >= 1 and --warmup >= 0") }
        if trl && !FileManager.default.fileExists(atPath: trlScript) {
            throw ValidationError("--trl: no script at \(trlScript) (run from the repository root or pass --trl-script)")
        }
    }

    struct Report: Encodable {
        let median_step_seconds: Double
        let split: [String: Double]
        let completion_tokens_per_second: Double
        let peak_rss_mb: Double
        /// GFLOP/s of the update's policy and value passes (time/policy), and that over the FMA peak.
        let update_gflops: Double
        let update_peak_ratio: Double
        var trl: TRLPeer.Report?
        var speedup_vs_trl: Double?
        var rss_ratio_vs_trl: Double?
    }

    /// The bench's shape, as TRL's script has it: rollouts a step (prompts x 1 response), prompt tokens, response tokens at most.
    static let rollouts = 64, promptTokens = 20, responseLength = 32

    /// Token ids as text (the bench's prompts are random ids).
    struct IdCodec: TextCodec {
        let eosTokenIDs: Set<Int32> = [2]
        func encode(_ text: String) throws -> [Int32] { text.split(separator: " ").compactMap { Int32($0) } }
        func decode(_ ids: [Int32]) -> String { ids.map(String.init).joined(separator: " ") + " " }
    }

    func run() throws {
        let vocab = 512
        let config = ModelPreset.tiny.config(vocabSize: vocab, eosTokenIDs: [2])
        let policy = DecoderModel(config: config)
        policy.initialize(seed: 1)
        let reference = DecoderModel(config: config)
        reference.parameters.values.pointer.update(from: policy.parameters.values.pointer, count: policy.parameters.count)
        let rewardModel = policy.scoreModel(seed: 9)
        var rng = SeededGenerator(seed: 3)
        let prompts = (0..<(Self.rollouts * (steps + warmup))).map { _ in
            let ids = (0..<Self.promptTokens).map { _ in Int32(3 + rng.nextInt(below: vocab - 3)) }
            return TrainingPrompt(text: ids.map(String.init).joined(separator: " ") + " ", ids: ids, columns: [:])
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-bench-ppo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: output) }
        let ppo = try PPOConfig.resolve(overrides: [
            "model": .string("random"), "train_file": .string("random"), "output_dir": .string(output.path), "max_steps": .int(steps + warmup),
            "per_device_train_batch_size": .int(16), "gradient_accumulation_steps": .int(4), "num_ppo_epochs": .int(4),
            "num_mini_batches": .int(1), "response_length": .int(Self.responseLength), "temperature": .double(1.0), "learning_rate": .double(1e-6),
            "kl_coef": .double(0.05), "save_steps": .int(1_000_000), "eval_on_start": .bool(false), "report_to": .string("none"),
            "reward_funcs": .list([.string("rm")]),
        ], source: "grpo bench ppo-step")
        let reward = try RewardModelReward(name: "rm", model: rewardModel, codec: IdCodec())
        let trainer = try PPOTrainer(config: ppo, policy: policy, reference: reference, value: policy.scoreModel(seed: 5), codec: IdCodec(),
                                     prompts: prompts, rewards: RewardScorer(runner: RewardRunner(rewards: [reward], timeout: 600),
                                                                             maxUnjudgeableSteps: 1_000), tokenizerSource: nil)
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        var rows: [[String: Double]] = []
        loop.onStep = { step, metrics in if step > warmup { rows.append(metrics) } }
        try trainer.train(loop: loop)
        func median(_ key: String) -> Double { Clock.median(rows.compactMap { $0[key] }) }
        let stepTime = median("step_time")
        let keys = ["time/generate", "time/reward", "time/reference", "time/value", "time/policy", "time/optimizer"]
        // The update's passes: per epoch, forward + backward (3x the forward's MACs, 2 FLOPs each) of the
        // policy and the value model over every prompt + response token, the policy's LM head on the
        // response tokens only; attention at the full row length (an upper bound: it is causal).
        let responseTokens = median("completion_tokens"), rowTokens = Double(Self.rollouts * Self.promptTokens) + responseTokens
        let macs = config.forwardMACsPerToken(time: Self.promptTokens + Self.responseLength), head = Double(config.vocabSize * config.hiddenSize)
        let body = Double(macs.matmul + macs.attention) - head
        let updateFLOPs = 4 * 2 * 3 * (2 * body * rowTokens + head * responseTokens)
        let updateGFLOPS = updateFLOPs / median("time/policy") / 1e9
        var report = Report(median_step_seconds: stepTime, split: Dictionary(uniqueKeysWithValues: keys.map { ($0, median($0)) }),
                            completion_tokens_per_second: median("completion_tokens") / stepTime, peak_rss_mb: Double(Clock.peakRSS()) / 1_048_576,
                            update_gflops: updateGFLOPS, update_peak_ratio: updateGFLOPS / MachinePeak.fmaGFLOPS())
        if trl {
            let theirs = try TRLPeer.run(python: python, script: trlScript, arguments: ["--steps", String(steps), "--warmup", String(warmup)])
            report.trl = theirs
            report.speedup_vs_trl = theirs.median_step_seconds / stepTime
            report.rss_ratio_vs_trl = report.peak_rss_mb / theirs.peak_rss_mb
        }
        if json { return try printJSON(report) }
        print("PPO update, tiny preset (\(config.parameterCount) parameters), \(Self.rollouts) prompts x 1 response, <= \(Self.responseLength) new tokens, 4 epochs, "
              + "reward model of the same size")
        print(String(format: "median %.3f s/update over %d: ", stepTime, steps)
              + keys.map { "\($0.dropFirst(5)) \(String(format: "%.3f", report.split[$0] ?? 0))" }.joined(separator: ", "))
        print(String(format: "%.0f completion tokens/s; peak RSS %.0f MB", report.completion_tokens_per_second, report.peak_rss_mb))
        print(String(format: "the 4 epochs' policy and value passes: %.1f GFLOP in %.3f s = %.0f GFLOP/s, %.2f of the FMA peak",
                     updateFLOPs / 1e9, median("time/policy"), report.update_gflops, report.update_peak_ratio))
        if let theirs = report.trl, let speedup = report.speedup_vs_trl, let rss = report.rss_ratio_vs_trl {
            print("TRL \(theirs.trl) (torch \(theirs.torch)), same settings, same machine: "
                  + String(format: "median %.3f s/update; peak RSS %.0f MB", theirs.median_step_seconds, theirs.peak_rss_mb)
                  + (theirs.gradient_checkpointing == true ? " (gradient checkpointing)" : ""))
            print(String(format: "ours vs TRL: %.2fx the updates per second, %.2fx the peak RSS", speedup, rss))
        }
    }
}
