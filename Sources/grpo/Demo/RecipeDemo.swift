import ArgumentParser
import Foundation
import Tasks
import TensorCore
import Tokenization
import Training
import Transformer

/// `grpo demo` (the README's `make demo`): the whole recipe on 3-digit addition with the R1 answer
/// format, from nothing: data, a BPE tokenizer trained on it, a tiny model, SFT to a starting
/// policy, then GRPO; held-out accuracy before and after, metrics.jsonl for every stage. The SFT and
/// GRPO stages run the committed configs `recipes/demo/sft.yaml` and `recipes/demo/grpo.yaml`.
struct RecipeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Data -> tokenizer -> tiny model -> SFT -> GRPO on 3-digit addition, with held-out accuracy before and after.")

    @OptionGroup var stages: DemoStageOptions
    @Option(help: "GRPO optimizer steps (0: stop after SFT; default: the recipe's max_steps).") var grpoSteps: Int?
    @Option(help: "GRPO learning rate (default: the recipe's).") var grpoLearningRate: Double?
    @Option(help: "GRPO KL coefficient (0: no reference model, as DAPO; default: the recipe's).") var grpoBeta: Double?
    @Option(help: "Held-out evaluations during GRPO every this many steps (default: the recipe's eval_steps).") var evalEvery: Int?

    func run() throws {
        let demo = try DemoStages(stages)
        let sft = try demo.startingPolicy()
        guard grpoSteps != 0 else { return }

        // 5. GRPO from the SFT checkpoint.
        let grpoDir = demo.root.appendingPathComponent("grpo")
        let (grpo, grpoRun) = try demo.train(GRPOConfig.self, recipe: "grpo.yaml", from: sft.checkpoint, into: grpoDir,
                                             options: [("max_steps", grpoSteps), ("learning_rate", grpoLearningRate), ("beta", grpoBeta),
                                                       ("eval_steps", evalEvery)]) { try GRPOTrainer(config: $0).train() }
        demo.stage("GRPO: \(grpoRun.steps) steps; metrics in \(grpoDir.appendingPathComponent("metrics.jsonl").path)")
        if let first = grpoRun.evaluations.first?.metrics, let last = grpoRun.evaluations.last?.metrics {
            let k = grpo.evalNumSamples
            print("held-out (\(grpo.training.evalSamples) problems, \(k) samples at temperature \(grpo.evalTemperature ?? grpo.rollout.temperature)):")
            for key in ["eval/greedy", "eval/pass@1", "eval/pass@\(k)", "eval/maj@\(k)"] {
                print(String(format: "  %-12@ before %5.1f%%  after %5.1f%%", key as NSString, 100 * (first[key] ?? 0), 100 * (last[key] ?? 0)))
            }
            print("pass@1 against GRPO training time (evaluation excluded): "
                  + grpoRun.evaluations.map { String(format: "%.0fs %.1f%%", $0.trainTime, 100 * ($0.metrics["eval/pass@1"] ?? 0)) }
                .joined(separator: ", "))
        }
        let report = try Report.write(runs: [sft.directory, grpoDir], names: ["SFT", "GRPO"], title: "grpo demo (seed \(stages.seed))",
                                      to: demo.root.appendingPathComponent("report.html"))
        demo.stage("done; report: \(report.path) (open it in a browser)")
    }
}

/// The demo's stages up to the SFT starting policy, and a stage runner from the committed recipes
/// (`recipes/demo/*.yaml` with this run's paths, seed and options), shared by `grpo demo` and
/// `grpo demo ppo-vs-grpo`.
struct DemoStages {
    /// The task a demo trains on, and what its tokenizer keeps whole.
    struct Task {
        let name: String
        let options: TaskOptions
        let vocabulary: Int
        let addedTokens: [String]
        let recipes: String
        var trainRows = 20_000

        /// 3-digit addition (grpo demo): the R1 tags are added tokens (one id each, as Qwen3's
        /// <think>), so completions are 7 tokens shorter.
        static let addition = Task(name: "arithmetic", options: TaskOptions(digits: 3, operations: ["+"]), vocabulary: 512,
                                   addedTokens: ["<think>", "</think>", "<answer>", "</answer>"], recipes: "demo")
        /// Small Python functions (grpo demo code): the fences too.
        static let code = Task(name: "code", options: TaskOptions(), vocabulary: 768,
                               addedTokens: ["<think>", "</think>", "<answer>", "</answer>", "```python", "```"], recipes: "code",
                               trainRows: 6000)
    }

    let options: DemoStageOptions
    let task: Task
    let root: URL
    let recipes: URL
    let start = Clock.now()
    var trainFile: URL { root.appendingPathComponent("data/train.jsonl") }
    var testFile: URL { root.appendingPathComponent("data/test.jsonl") }

    init(_ options: DemoStageOptions, task: Task = .addition) throws {
        self.options = options
        self.task = task
        root = URL(fileURLWithPath: options.out)
        recipes = try options.recipeFolder(task.recipes)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func stage(_ text: String) { print(String(format: "[%6.1fs] %@", Clock.now() - start, text)) }

    /// Data, tokenizer, a tiny random model and SFT (which stops once held-out greedy accuracy
    /// reaches the recipe's target): the checkpoint the RL stages start from.
    func startingPolicy() throws -> (checkpoint: URL, directory: URL) {
        // 1. Data: the task's problems, R1 format, disjoint seeded splits.
        let generator = try BuiltinTasks.make(task.name, options: task.options)
        let splits = try makeDataset(task: generator, train: task.trainRows, test: 200, seed: UInt64(options.seed), format: .r1)
        try FileManager.default.createDirectory(at: trainFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONL.write(splits.train, to: trainFile)
        try JSONL.write(splits.test, to: testFile)
        stage("data: \(splits.train.count) train / \(splits.test.count) test rows in \(trainFile.deletingLastPathComponent().path)")

        // 2. Tokenizer trained on the task, 3. a tiny random model.
        let tokenizerDir = root.appendingPathComponent("tokenizer")
        try FileManager.default.createDirectory(at: tokenizerDir, withIntermediateDirectories: true)
        let texts = try TrainTokenizer.texts(trainFile.path)
        let tokenizer = try TrainTokenizer.train(texts: Array(texts.prefix(8000)), vocabSize: task.vocabulary, specialTokens: ["<|endoftext|>"],
                                                 addedTokens: task.addedTokens)
        try tokenizer.save(to: tokenizerDir)
        let initial = root.appendingPathComponent("init")
        let model = try InitModel.create(preset: .tiny, tokenizerFolder: tokenizerDir, seed: UInt64(options.seed))
        try ModelCheckpoint.save(model, to: initial, tokenizerSource: tokenizerDir)
        stage("tokenizer: \(tokenizer.vocabSize) tokens; model: tiny preset, \(model.config.parameterCount) parameters")

        // 4. SFT to the starting policy.
        let sftDir = root.appendingPathComponent("sft")
        let (_, sftRun) = try train(SFTConfig.self, recipe: "sft.yaml", from: initial, into: sftDir,
                                    options: [("max_steps", options.sftSteps), ("stop_at_eval_accuracy", options.sftTarget)]) {
            try SFTTrainer(config: $0).train()
        }
        guard let checkpoint = sftRun.checkpoint else { throw ValidationError("SFT wrote no checkpoint") }
        stage(String(format: "SFT: %d steps, held-out greedy accuracy %.1f%%; curve (step: accuracy): %@", sftRun.steps,
                     100 * (sftRun.evaluations.last?.metrics["eval/greedy"] ?? 0),
                     sftRun.evaluations.map { String(format: "%d: %.1f%%", $0.step, 100 * ($0.metrics["eval/greedy"] ?? 0)) }
                         .joined(separator: ", ")))
        return (checkpoint, sftDir)
    }

    /// Runs one stage from `recipe` in a fresh `output` folder: the recipe's settings, then this
    /// run's paths and seed, then `options` (those given).
    func train<C: TrainerSettings>(_ type: C.Type, recipe: String, from model: URL, into output: URL, options: [(String, Any?)],
                                   _ run: (C) throws -> RunSummary) throws -> (C, RunSummary) {
        try? FileManager.default.removeItem(at: output)
        let paths = ["model=\(model.path)", "train_file=\(trainFile.path)", "eval_file=\(testFile.path)", "output_dir=\(output.path)",
                     "seed=\(self.options.seed)"]
        let given = options.compactMap { key, value in value.map { "\(key)=\($0)" } }
        let config = try C.resolve(try SettingsFile.entries(recipes.appendingPathComponent(recipe).path)
            + SettingsFile.overrides(paths + given, source: "grpo demo"))
        return (config, try run(config))
    }
}

/// The options of the stages up to the SFT starting policy, shared by `grpo demo` and `grpo demo sft`.
struct DemoStageOptions: ParsableArguments {
    @Option(help: "Working folder (replaced stage by stage).") var out = "runs/demo"
    @Option(help: "Seed for data, initialisation and sampling.") var seed = 1
    @Option(help: "The folder holding the stages' configs sft.yaml and grpo.yaml (default: recipes/demo in the repository).")
    var recipes: String?
    @Option(help: "Most SFT optimizer steps (the cosine schedule's length; default: the recipe's max_steps).") var sftSteps: Int?
    /// 0.4 is the peer's start (39% greedy). GRPO hardly widens what the start can sample: pass@1 at
    /// the end approaches the start's pass@64 (seed 1: 0.815 at 32% greedy, 0.87 at 43%, 0.93 at 62%).
    @Option(help: "SFT stops at the first held-out evaluation whose greedy accuracy reaches this (default: the recipe's stop_at_eval_accuracy).")
    var sftTarget: Double?

    /// The same options as command-line arguments.
    var arguments: [String] {
        ["--out", out, "--seed", String(seed)] + (recipes.map { ["--recipes", $0] } ?? []) + (sftSteps.map { ["--sft-steps", String($0)] } ?? [])
            + (sftTarget.map { ["--sft-target", String($0)] } ?? [])
    }

    /// --recipes, else recipes/<name> under the working directory, else beside the binary's build folder.
    func recipeFolder(_ name: String = "demo") throws -> URL {
        if let recipes { return URL(fileURLWithPath: recipes) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [URL(fileURLWithPath: "recipes/\(name)"),
                          binary.deletingLastPathComponent().appendingPathComponent("../../../recipes/\(name)").standardized]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("sft.yaml").path) })
        else {
            throw ValidationError("no recipes/\(name)/sft.yaml here: run from the repository root (as make demo does) or pass --recipes DIR")
        }
        return found
    }
}
