import ArgumentParser
import Foundation
import Tasks
import TensorCore
import Tokenization
import Training
import Transformer

/// `grpo demo` (the README's `make demo`): the whole recipe on 3-digit addition with the R1 answer
/// format, from nothing: data, a BPE tokenizer trained on it, a tiny model, SFT to a starting
/// policy, then GRPO; held-out accuracy before and after, metrics.jsonl for every stage.
struct RecipeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Data -> tokenizer -> tiny model -> SFT -> GRPO on 3-digit addition, with held-out accuracy before and after.")

    @OptionGroup var stages: DemoStageOptions
    var out: String { stages.out }
    var seed: Int { stages.seed }
    var sftSteps: Int { stages.sftSteps }
    var sftTarget: Double { stages.sftTarget }
    @Option(help: "GRPO optimizer steps (0: stop after SFT).") var grpoSteps = 2000
    @Option(help: "GRPO learning rate.") var grpoLearningRate = 5e-5
    @Option(help: "GRPO KL coefficient (0: no reference model, as DAPO).") var grpoBeta = 0.0
    @Option(help: "Held-out evaluations during GRPO every this many steps.") var evalEvery = 100

    func validate() throws {
        guard sftSteps >= 1, (0...1).contains(sftTarget), grpoSteps >= 0, evalEvery >= 1, grpoLearningRate > 0, grpoBeta >= 0 else {
            throw ValidationError("--sft-steps >= 1, 0 <= --sft-target <= 1, --grpo-steps >= 0, --eval-every >= 1, --grpo-learning-rate > 0, --grpo-beta >= 0")
        }
    }

    func run() throws {
        let start = Clock.now()
        let root = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        func stage(_ text: String) { print(String(format: "[%6.1fs] %@", Clock.now() - start, text)) }

        // 1. Data: 3-digit addition, R1 format, disjoint seeded splits.
        let task = try BuiltinTasks.make("arithmetic", options: TaskOptions(digits: 3, operations: ["+"]))
        let splits = try makeDataset(task: task, train: 20_000, test: 200, seed: UInt64(seed), format: .r1)
        let data = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try JSONL.write(splits.train, to: data.appendingPathComponent("train.jsonl"))
        try JSONL.write(splits.test, to: data.appendingPathComponent("test.jsonl"))
        stage("data: \(splits.train.count) train / \(splits.test.count) test rows in \(data.path)")

        // 2. Tokenizer trained on the task, 3. a tiny random model.
        let tokenizerDir = root.appendingPathComponent("tokenizer")
        try FileManager.default.createDirectory(at: tokenizerDir, withIntermediateDirectories: true)
        let texts = try TrainTokenizer.texts(data.appendingPathComponent("train.jsonl").path)
        // The R1 tags are added tokens (one id each, as Qwen3's <think>): completions are 7 tokens shorter.
        let tokenizer = try TrainTokenizer.train(texts: Array(texts.prefix(8000)), vocabSize: 512, specialTokens: ["<|endoftext|>"],
                                                 addedTokens: ["<think>", "</think>", "<answer>", "</answer>"])
        try tokenizer.save(to: tokenizerDir)
        let initial = root.appendingPathComponent("init")
        let model = try InitModel.create(preset: .tiny, tokenizerFolder: tokenizerDir, seed: UInt64(seed))
        try ModelCheckpoint.save(model, to: initial, tokenizerSource: tokenizerDir)
        stage("tokenizer: \(tokenizer.vocabSize) tokens; model: tiny preset, \(model.config.parameterCount) parameters")

        // 4. SFT to the starting policy: it stops once held-out greedy accuracy reaches --sft-target.
        let sftDir = root.appendingPathComponent("sft")
        let sft = try SFTConfig(SFTConfig.schema.resolve(file: nil, overrides: [
            "model=\(initial.path)", "train_file=\(data.path)/train.jsonl", "eval_file=\(data.path)/test.jsonl",
            "output_dir=\(sftDir.path)", "max_steps=\(sftSteps)", "per_device_train_batch_size=32", "learning_rate=0.002",
            "lr_scheduler_type=cosine", "warmup_steps=30", "weight_decay=0.01", "logging_steps=25",
            "eval_steps=20", "stop_at_eval_accuracy=\(sftTarget)", "eval_samples=200", "eval_max_new_tokens=48", "save_steps=\(sftSteps)",
            "save_total_limit=1", "seed=\(seed)",
        ]))
        let sftCodec = TokenizerCodec(tokenizer: tokenizer, eosTokenIDs: tokenizer.eosTokenID.map { [Int32($0)] } ?? [])
        let sftExamples = { (rows: [Row]) in
            rows.map { row in SFTExample(prompt: row.promptText, completion: row.completionText ?? "", columns: row.columns) }
        }
        let sftTrainer = try SFTTrainer(config: sft, model: model, codec: sftCodec, train: sftExamples(splits.train),
                                        eval: sftExamples(splits.test), tokenizerSource: tokenizerDir,
                                        verify: TrainingData.verifier("math_answer"))
        try sftTrainer.run(resume: false)
        let sftAccuracy = sftTrainer.evaluations.last?.accuracy ?? 0
        stage(String(format: "SFT: %d steps, held-out greedy accuracy %.1f%%; curve (step: accuracy): %@", sftTrainer.state.step, 100 * sftAccuracy,
                     sftTrainer.evaluations.map { String(format: "%d: %.1f%%", $0.step, 100 * $0.accuracy) }.joined(separator: ", ")))
        guard grpoSteps > 0 else { return }

        // 5. GRPO from the SFT checkpoint.
        let checkpoint = sftDir.appendingPathComponent("checkpoint-\(sftTrainer.state.step)")
        let grpoDir = root.appendingPathComponent("grpo")
        try? FileManager.default.removeItem(at: grpoDir)
        let grpo = try GRPOConfig(GRPOConfig.schema.resolve(file: nil, overrides: [
            "model=\(checkpoint.path)", "train_file=\(data.path)/train.jsonl", "eval_file=\(data.path)/test.jsonl",
            "output_dir=\(grpoDir.path)", "max_steps=\(grpoSteps)", "per_device_train_batch_size=64", "num_generations=8",
            "max_completion_length=48", "temperature=1.0", "learning_rate=\(grpoLearningRate)", "beta=\(grpoBeta)", "loss_type=dapo",
            "lr_scheduler_type=constant", "reward_funcs=math_answer", "eval_steps=\(evalEvery)", "eval_samples=200",
            "eval_num_samples=8", "save_steps=\(grpoSteps)", "save_total_limit=1", "log_completions_steps=\(max(grpoSteps / 4, 1))",
            "seed=\(seed)",
        ]))
        let session = try GRPOSession(config: grpo)
        // Held-out figures against GRPO training time (evaluation time excluded), for the curve.
        var evaluations: [(step: Int, trainTime: Double, metrics: [String: Double])] = []
        var trainTime = 0.0
        let evaluate = session.trainer.evaluate
        session.trainer.onStep = { _, metrics in trainTime = metrics["train_time"] ?? trainTime }
        session.trainer.evaluate = { step in
            let m = evaluate?(step) ?? [:]
            evaluations.append((step, trainTime, m))
            return m
        }
        try session.trainer.run(resume: false)
        stage("GRPO: \(grpoSteps) steps; metrics in \(grpoDir.appendingPathComponent("metrics.jsonl").path)")
        if let first = evaluations.first?.metrics, let last = evaluations.last?.metrics {
            print("held-out (200 problems, 8 samples at temperature 1):")
            for key in ["eval/greedy", "eval/pass@1", "eval/pass@8", "eval/maj@8"] {
                print(String(format: "  %-12@ before %5.1f%%  after %5.1f%%", key as NSString, 100 * (first[key] ?? 0), 100 * (last[key] ?? 0)))
            }
            print("pass@1 against GRPO training time (evaluation excluded): "
                  + evaluations.map { String(format: "%.0fs %.1f%%", $0.trainTime, 100 * ($0.metrics["eval/pass@1"] ?? 0)) }
                .joined(separator: ", "))
        }
        stage("done")
    }
}

/// The options of the stages up to the SFT starting policy, shared by `grpo demo` and `grpo demo sft`.
struct DemoStageOptions: ParsableArguments {
    @Option(help: "Working folder (replaced stage by stage).") var out = "runs/demo"
    @Option(help: "Seed for data, initialisation and sampling.") var seed = 1
    @Option(help: "Most SFT optimizer steps (the cosine schedule's length).") var sftSteps = 600
    /// 0.4 is the peer's start (39% greedy). GRPO hardly widens what the start can sample: pass@1 at
    /// the end approaches the start's pass@64 (seed 1: 0.815 at 32% greedy, 0.87 at 43%, 0.93 at 62%).
    @Option(help: "SFT stops at the first held-out evaluation (every 20 steps) whose greedy accuracy reaches this: the starting policy.")
    var sftTarget = 0.4

    /// The same options as command-line arguments.
    var arguments: [String] {
        ["--out", out, "--seed", String(seed), "--sft-steps", String(sftSteps), "--sft-target", String(sftTarget)]
    }
}

extension Row {
    /// The prompt as plain text (chat messages joined, for models without a chat template).
    var promptText: String {
        switch prompt {
        case .text(let text): return text
        case .messages(let messages): return messages.map(\.content).joined(separator: "\n")
        }
    }
}
