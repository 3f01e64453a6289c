import ArgumentParser
import Collectives
import Foundation
import Rewards
import Tasks
import TensorCore
import Tracking
import Training
import Transformer

/// `grpo bench grpo-step`: the step TRL is measured on (Scripts/bench_trl_grpo_step.py): tiny preset
/// with random weights, 8 prompts x 8 completions of a ~20-token prompt, max 32 new tokens,
/// temperature 1, beta 0.04, epsilon 0.2, mu 1, loss dapo. With --model, a real model (a Hugging
/// Face folder, e.g. SmolLM2 written by `grpo convert`) on arithmetic prompts in words, and with
/// --lora-r, LoRA adapters (all linear layers, alpha 2r, dropout 0.05) on the frozen base. Under
/// mpirun the ranks split the prompts (data parallelism) and rank 0 reports.
struct GRPOStepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo-step",
        abstract: "Measure one GRPO step (generate, reference, policy forward+backward, optimizer) on the tiny preset or a model."
    )

    @OptionGroup var options: BenchOptions
    @Option(help: "Timed steps (median reported).") var steps = 10
    @Option(help: "Untimed warm-up steps.") var warmup = 2
    @Option(help: "Where each step's metrics go, as report_to: jsonl, tensorboard (comma-separated), or none.")
    var reportTo = "jsonl,tensorboard"
    @Flag(help: "Also write completions.jsonl each step (log_completions).") var logCompletions = false
    @Flag(help: "Then run TRL's step on the same machine (Scripts/bench_trl_grpo_step.py; needs Python with trl 1.16, torch, datasets) and print the ratio.")
    var trl = false
    @Option(help: "The Python that runs the TRL script.") var python = "python3"
    @Option(help: "The TRL script.") var trlScript = "Scripts/bench_trl_grpo_step.py"
    @Option(help: "A Hugging Face model folder to measure instead of the tiny preset (TRL loads the same folder).") var model: String?
    @Option(help: "Prompts per step.") var prompts = 8
    @Option(help: "Completions per prompt (num_generations).") var generations = 8
    @Option(help: "New tokens per completion at most (max_completion_length).") var maxCompletionLength = 32
    @Option(help: "LoRA rank (0: full fine-tuning); TRL then trains PEFT adapters of the same shape.") var loraR = 0
    @Flag(help: "Activation checkpointing in the policy pass (gradient_checkpointing: true); peak RSS is per process, so compare two runs.")
    var gradientCheckpointing = false

    func validate() throws {
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be >= 1 and --warmup >= 0") }
        guard prompts >= 1, generations >= 2, maxCompletionLength >= 1, loraR >= 0 else {
            throw ValidationError("--prompts >= 1, --generations >= 2, --max-completion-length >= 1 and --lora-r >= 0 needed")
        }
        guard prompts <= 4096, generations <= 4096, prompts * generations <= 65536, loraR <= 4096 else {
            throw ValidationError("--prompts and --generations must be <= 4096 (at most 65536 completions a step) and --lora-r <= 4096, "
                                  + "got \(prompts), \(generations) and \(loraR)")
        }
        if trl && !FileManager.default.fileExists(atPath: trlScript) {
            throw ValidationError("--trl: no script at \(trlScript) (run from the repository root or pass --trl-script)")
        }
    }

    /// The TRL script's arguments for the same model, sizes and LoRA.
    var trlArguments: [String] {
        (model.map { ["--model", $0] } ?? []) + ["--prompts", "\(prompts)", "--generations", "\(generations)",
                                                 "--max-completion-length", "\(maxCompletionLength)", "--lora-r", "\(loraR)",
                                                 "--steps", "\(steps)", "--warmup", "\(warmup)"]
    }

    /// Token ids as text: the bench only needs lengths and ids; rewards are seeded random numbers
    /// (reward code is not what this measures).
    struct IdCodec: TextCodec {
        let eosTokenIDs: Set<Int32> = [2]
        func encode(_ text: String) throws -> [Int32] { text.split(separator: " ").compactMap { Int32($0) } }
        func decode(_ ids: [Int32]) -> String { ids.map(String.init).joined(separator: " ") }
    }

    /// 0 or 1 at random, seeded by the completions' text (reward code is not what this measures).
    struct RandomReward: Reward {
        let name = "random"
        let weight = 1.0
        func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
            completions.map { Double($0.utf8.reduce(5) { ($1 &+ $0 &* 31) } & 1) }
        }
    }

    struct Report: Encodable {
        let median_step_seconds: Double
        let generate_seconds: Double
        let reference_seconds: Double
        let policy_seconds: Double
        let optimizer_seconds: Double
        let completion_tokens_per_second: Double
        let peak_rss_mb: Double
        let gradient_checkpointing: Bool
        let gflops: Double
        let peak_ratio: Double
        /// Writing one logged step: metrics.jsonl, the TensorBoard event and 64 completions.jsonl rows.
        let logging_seconds: Double
        var trl: TRLPeer.Report?
        var speedup_vs_trl: Double?
    }

    /// The median time to write one logged step of `metrics` to metrics.jsonl and an event file,
    /// with 64 completions.jsonl rows of the demo's size, over 200 steps.
    func loggingSeconds(_ metrics: [String: Double]) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-bench-logging-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sinks: [any MetricsSink] = [try MetricsLog(url: dir.appendingPathComponent("metrics.jsonl"), resumingAt: nil),
                                        try EventFileWriter(directory: dir)]
        let completions = try StepLog(url: dir.appendingPathComponent("completions.jsonl"), resumingAt: nil)
        let prompt = String(repeating: "Add the numbers 123 and 456 and answer. ", count: 4)
        let row: [String: JSONLine] = ["prompt": .string(prompt), "completion": .string("<think>3+6=9, 2+5=7, 1+4=5</think><answer>579</answer>"),
                                       "rewards": .object(["math_answer": .number(1)]), "reward": .number(1), "advantage": .number(0.35),
                                       "finish_reason": .string("stop")]
        var times: [Double] = []
        for step in 1...200 {
            let t0 = Clock.now()
            for sink in sinks { try sink.write(step: step, metrics) }
            try completions.append([[String: JSONLine]](repeating: row.merging(["step": .int(step)]) { a, _ in a }, count: 64))
            times.append(Clock.now() - t0)
        }
        return Clock.median(times)
    }

    /// The model (with LoRA adapters when --lora-r > 0), its reference, its codec and the step's
    /// prompts: the tiny preset with random weights and random-id prompts, or --model on prompts in
    /// words (the same texts the TRL script uses).
    func setup() throws -> (policy: DecoderModel, reference: DecoderModel, codec: TextCodec, prompts: [TrainingPrompt]) {
        let base: DecoderModel, codec: TextCodec, texts: [String]
        if let model {
            let bundle = try ModelBundle.load(model)
            (base, codec) = (bundle.model, bundle.codec)
            // The TRL script builds the same texts (Scripts/bench_trl_grpo_step.py, word_prompts).
            texts = (0..<prompts * generations).map { i in
                "Question \(i): what is \(100 + 37 * i % 900) plus \(200 + 53 * i % 700)? Think step by step, then give the answer."
            }
        } else {
            let vocab = 512
            base = DecoderModel(config: ModelPreset.tiny.config(vocabSize: vocab, eosTokenIDs: [2]))
            base.initialize(seed: 1)
            codec = IdCodec()
            var rng = SeededGenerator(seed: 3)
            texts = (0..<prompts * generations).map { _ in (0..<20).map { _ in String(3 + rng.nextInt(below: vocab - 3)) }.joined(separator: " ") }
        }
        var lora = LoRAConfig()
        (lora.usePeft, lora.rank, lora.alpha, lora.targetModules) = (loraR > 0, max(1, loraR), Double(2 * loraR), ["all-linear"])
        let policy = ModelBundle.trainedModel(base, lora, seed: 1)
        let reference = policy.adapters != nil ? policy.withoutAdapters : ModelBundle.copy(base)
        return (policy, reference, codec, try texts.map { TrainingPrompt(text: $0, ids: try codec.encode($0), columns: [:]) })
    }

    func run() throws {
        let (policy, reference, codec, prompts) = try setup()
        let config = policy.config
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: output) }
        let grpo = try GRPOConfig.resolve(overrides: [
            "model": .string("random"), "train_file": .string("random"), "output_dir": .string(output.path),
            "max_steps": .int(steps + warmup), "per_device_train_batch_size": .int(self.prompts * generations),
            "num_generations": .int(generations), "max_completion_length": .int(maxCompletionLength), "temperature": .double(1.0), "beta": .double(0.04), "epsilon": .double(0.2),
            "num_iterations": .int(1), "loss_type": .string("dapo"), "learning_rate": .double(1e-5), "save_steps": .int(1_000_000),
            "log_completions_steps": .int(0), "reward_funcs": .list([.string("random")]), "eval_on_start": .bool(false),
            "report_to": .string(reportTo), "log_completions": .bool(logCompletions),
            "gradient_checkpointing": .bool(gradientCheckpointing),
        ], source: "grpo bench grpo-step")
        let rewards = RewardScorer(runner: RewardRunner(rewards: [RandomReward()], timeout: 60), maxUnjudgeableSteps: 1)
        let trainer = try GRPOTrainer(config: grpo, policy: policy, reference: reference, codec: codec, prompts: prompts,
                                      rewards: rewards, tokenizerSource: nil)
        let communicator = try Launch.communicator()
        var loop = TrainingLoop()
        loop.communicator = communicator
        loop.log = { _ in }
        loop.showProgress = false
        var rows: [[String: Double]] = []
        loop.onStep = { step, metrics in if step > warmup { rows.append(metrics) } }
        try trainer.train(loop: loop)
        try MPICommunicator.finalize()
        guard communicator.isMain else { return }
        func median(_ key: String) -> Double { Clock.median(rows.compactMap { $0[key] }) }
        let stepTime = median("step_time")
        let tokens = median("completion_tokens")
        // FLOPs of the step as TRL computes it: decode (2 per MAC per generated token, over prompt +
        // completion for the prefill), reference forward (2x), policy forward + backward (6x; 4x with
        // LoRA: the frozen base takes input gradients only), on all prompt + completion tokens; LoRA's
        // adapters add one MAC per adapter parameter and token (A is r x in, B out x r), 2x in decode,
        // 6x in the policy pass, none in the reference (the base with adapters off). Ours shares each prompt's prefill
        // and most of its rows in the passes, so it does less: the rate is the unshared step's work per second.
        let promptTokens = Double(prompts.reduce(0) { $0 + $1.ids.count }) / Double(prompts.count)
        let macs = config.forwardMACsPerToken(time: Int(promptTokens) + maxCompletionLength)
        let perToken = Double(macs.matmul + macs.attention)
        let adapterMACs = Double(policy.adapters?.parameters.count ?? 0)
        let sequenceTokens = Double(self.prompts * generations) * promptTokens + tokens
        let flops = perToken * (2 + 2 + (loraR > 0 ? 4 : 6)) * sequenceTokens + adapterMACs * (2 + 6) * sequenceTokens
        let peak = MachinePeak.fmaGFLOPS()
        var report = Report(median_step_seconds: stepTime, generate_seconds: median("time/generate"),
                            reference_seconds: median("time/reference"), policy_seconds: median("time/policy"),
                            optimizer_seconds: median("time/optimizer"), completion_tokens_per_second: tokens / stepTime,
                            peak_rss_mb: Double(Clock.peakRSS()) / 1_048_576, gradient_checkpointing: gradientCheckpointing,
                            gflops: flops / stepTime / 1e9,
                            peak_ratio: flops / stepTime / 1e9 / peak, logging_seconds: try loggingSeconds(rows.last ?? [:]))
        if trl {
            let theirs = try TRLPeer.run(python: python, script: trlScript, arguments: trlArguments)
            report.trl = theirs
            report.speedup_vs_trl = theirs.median_step_seconds / stepTime
        }
        if options.json { return try printJSON(report) }
        print("GRPO step, \(model ?? "tiny preset") (\(config.parameterCount) parameters), \(self.prompts) prompts x \(generations) completions, "
              + "<= \(maxCompletionLength) new tokens, beta 0.04, "
              + (loraR > 0 ? "LoRA r \(loraR) on every linear layer (\(policy.trainable.count) trained parameters)" : "full fine-tuning")
              + (gradientCheckpointing ? ", gradient checkpointing" : "")
              + (communicator.size > 1 ? ", split over \(communicator.size) ranks" : ""))
        print(String(format: "median %.3f s/step over %d steps: generate %.3f, reference %.3f, policy fwd+bwd %.3f, optimizer %.3f; "
                     + "mean completion %.1f tokens", stepTime, steps, report.generate_seconds, report.reference_seconds, report.policy_seconds,
                     report.optimizer_seconds, median("completions/mean_length")))
        print(String(format: "%.0f completion tokens/s; peak RSS %.0f MB; %.1f GFLOP/s of the unshared step's work = %.3f of peak", report.completion_tokens_per_second,
                     report.peak_rss_mb, report.gflops, report.peak_ratio))
        print(String(format: "logging a step (metrics.jsonl, TensorBoard event, 64 completions.jsonl rows): %.3f ms = %.2f%% of the step",
                     1000 * report.logging_seconds, 100 * report.logging_seconds / stepTime))
        if let theirs = report.trl, let speedup = report.speedup_vs_trl {
            print("TRL \(theirs.trl) (torch \(theirs.torch)\(loraR > 0 ? ", PEFT" : "")), same settings, same machine"
                  + (theirs.gradient_checkpointing == true ? " (its default gradient checkpointing)" : "") + ": "
                  + String(format: "median %.3f s/step; %.0f completion tokens/s; peak RSS %.0f MB", theirs.median_step_seconds,
                           theirs.completion_tokens_per_second, theirs.peak_rss_mb)
                  + (theirs.mean_completion_length.map { String(format: "; mean completion %.1f tokens", $0) } ?? ""))
            print(String(format: "ours vs TRL: %.2fx the steps per second, %.2fx the peak RSS", speedup, report.peak_rss_mb / theirs.peak_rss_mb))
        }
    }
}
