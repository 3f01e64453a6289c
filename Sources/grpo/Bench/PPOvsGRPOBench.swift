import ArgumentParser
import Foundation
import Rewards
import Tasks
import TensorCore
import Tokenization
import Training
import Transformer

/// `grpo bench ppo-vs-grpo`: the seed's claim measured. The same policy, task (3-digit addition),
/// completion length and completions per step: GRPO with 8 prompts x 8 completions, PPO with 64
/// prompts x 1 response (4 epochs, its default, and 1). Each algorithm runs in a process of its own
/// (so each peak RSS is its own), the runs interleaved over rounds; medians reported.
struct PPOvsGRPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-vs-grpo",
        abstract: "Seconds per step, its split, peak RSS and model-state memory of GRPO and PPO at equal completions per step.")

    @Option(help: "tiny (the tiny preset, random weights, a tokenizer trained on the task) or a model folder / .gguf file.")
    var model = "tiny"
    @Option(help: "Timed steps per run (median reported).") var steps = 5
    @Option(help: "Untimed warm-up steps per run.") var warmup = 1
    @Option(help: "Rounds: each algorithm runs once per round, interleaved.") var rounds = 2
    @Option(help: "New tokens per completion at most.") var maxCompletionLength = 32
    @Option(help: "Responses per PPO micro-batch (the rollout batch is 64 = this x gradient_accumulation_steps).") var ppoMicroBatch = 16
    @Option(help: "Run one algorithm and print its JSON (what the bench runs in each child process): grpo, ppo4 or ppo1.")
    var only: String?
    @Flag(help: "Print one JSON object.") var json = false

    static let algorithms = ["grpo", "ppo4", "ppo1"]

    func validate() throws {
        guard steps >= 1, warmup >= 0, rounds >= 1, maxCompletionLength >= 1, ppoMicroBatch >= 1, 64 % ppoMicroBatch == 0 else {
            throw ValidationError("--steps, --rounds, --max-completion-length >= 1, --warmup >= 0, and --ppo-micro-batch must divide 64")
        }
        if let only, !Self.algorithms.contains(only) { throw ValidationError("--only must be one of \(Self.algorithms.joined(separator: ", "))") }
    }

    /// What one child reports.
    struct RunReport: Codable {
        var algorithm: String
        var parameters: Int
        var step_seconds: Double
        var split: [String: Double]
        var peak_rss_mb: Double
        /// Weights, gradients and AdamW moments of each trained model, weights of each frozen one.
        var model_state_mb: Double
        var models: String
    }

    func run() throws {
        if let only { return try printJSON(try measure(only)) }
        var reports: [String: [RunReport]] = [:]
        for round in 1...rounds {
            for algorithm in Self.algorithms {
                let report = try child(algorithm)
                reports[algorithm, default: []].append(report)
                if !json { print("round \(round): \(algorithm) \(fixed(report.step_seconds, 3)) s/step, peak RSS \(fixed(report.peak_rss_mb, 0)) MB") }
            }
        }
        let best = Self.algorithms.compactMap { a -> RunReport? in
            guard let runs = reports[a], var first = runs.first else { return nil }
            first.step_seconds = Clock.median(runs.map(\.step_seconds))
            first.peak_rss_mb = Clock.median(runs.map(\.peak_rss_mb))
            for key in first.split.keys { first.split[key] = Clock.median(runs.map { $0.split[key] ?? 0 }) }
            return first
        }
        if json { return try printJSON(best) }
        let parameters = best.first?.parameters ?? 0
        print("\nGRPO (8 prompts x 8 completions) vs PPO (64 prompts x 1), \(parameters) parameters, <= \(maxCompletionLength) new tokens, "
              + "medians of \(rounds) runs x \(steps) steps")
        let keys = ["time/generate", "time/reward", "time/reference", "time/value", "time/policy", "time/optimizer"]
        print(padLeft("", 6) + padLeft("s/step", 9) + keys.map { padLeft(String($0.dropFirst(5)), 10) }.joined() + padLeft("peak RSS", 10)
              + padLeft("state MB", 10) + "  models")
        for r in best {
            print(padLeft(r.algorithm, 6) + padLeft(fixed(r.step_seconds, 3), 9) + keys.map { padLeft(fixed(r.split[$0] ?? 0, 3), 10) }.joined()
                  + padLeft(fixed(r.peak_rss_mb, 0), 10) + padLeft(fixed(r.model_state_mb, 1), 10) + "  " + r.models)
        }
        if let grpo = best.first(where: { $0.algorithm == "grpo" }) {
            for ppo in best where ppo.algorithm != "grpo" {
                print(String(format: "GRPO vs %@: %.0f%% less time per step, %.0f%% less model-state memory, %.0f%% less peak RSS",
                             ppo.algorithm, 100 * (1 - grpo.step_seconds / ppo.step_seconds),
                             100 * (1 - grpo.model_state_mb / ppo.model_state_mb), 100 * (1 - grpo.peak_rss_mb / ppo.peak_rss_mb)))
            }
        }
    }

    /// Runs `grpo bench ppo-vs-grpo --only ALG ...` and reads its JSON.
    func child(_ algorithm: String) throws -> RunReport {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        process.arguments = ["bench", "ppo-vs-grpo", "--only", algorithm, "--model", model, "--steps", String(steps), "--warmup", String(warmup),
                             "--max-completion-length", String(maxCompletionLength), "--ppo-micro-batch", String(ppoMicroBatch)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let report = try? JSONDecoder().decode(RunReport.self, from: Data(line.utf8)) else {
            throw ValidationError("the \(algorithm) run failed (exit \(process.terminationStatus))")
        }
        return report
    }

    /// 0 or 1, from the completion's text (the same reward work for both algorithms; reward code is
    /// not what this measures, and a constant reward would let GRPO skip its policy pass).
    struct CoinReward: Reward {
        let name = "coin"
        let weight = 1.0
        func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
            completions.map { Double($0.utf8.reduce(5) { ($1 &+ $0 &* 31) } & 1) }
        }
    }

    /// The model, its codec and 3-digit addition prompts.
    func inputs(_ work: URL) throws -> (model: DecoderModel, codec: TokenizerCodec, prompts: [TrainingPrompt]) {
        let task = try BuiltinTasks.make("arithmetic", options: TaskOptions(digits: 3, operations: ["+"]))
        let rows = try makeDataset(task: task, train: 2000, test: 0, seed: 1, format: .r1).train
        let bundle: (model: DecoderModel, tokenizer: Tokenizer)
        if model == "tiny" {
            let texts = rows.prefix(2000).flatMap { row -> [String] in
                guard case .text(let prompt) = row.prompt else { return [] }
                return [prompt, row.completionText ?? ""]
            }
            let tokenizer = try TrainTokenizer.train(texts: texts, vocabSize: 512, specialTokens: ["<|endoftext|>"],
                                                     addedTokens: ["<think>", "</think>", "<answer>", "</answer>"])
            let m = DecoderModel(config: ModelPreset.tiny.config(vocabSize: tokenizer.vocabSize, eosTokenIDs: tokenizer.eosTokenID.map { [$0] } ?? []))
            m.initialize(seed: 1)
            bundle = (m, tokenizer)
        } else {
            let loaded = try ModelBundle.load(model)
            bundle = (loaded.model, loaded.tokenizer)
        }
        let codec = TokenizerCodec(tokenizer: bundle.tokenizer, eosTokenIDs: bundle.model.config.eosTokenIDs.isEmpty
                                   ? Set(bundle.tokenizer.eosTokenID.map { [Int32($0)] } ?? []) : Set(bundle.model.config.eosTokenIDs.map(Int32.init)))
        let prompts = try rows.map { row -> TrainingPrompt in
            guard case .text(let text) = row.prompt else { throw ValidationError("plain prompts expected") }
            return TrainingPrompt(text: text, ids: try codec.encode(text), columns: row.columns)
        }
        _ = work
        return (bundle.model, codec, prompts)
    }

    /// One algorithm's run in this process.
    func measure(_ algorithm: String) throws -> RunReport {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-bench-ppo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: work) }
        let (policy, codec, prompts) = try inputs(work)
        let common: [String: SettingValue] = [
            "model": .string(model), "train_file": .string("task"), "output_dir": .string(work.path), "max_steps": .int(steps + warmup),
            "save_steps": .int(1_000_000), "eval_on_start": .bool(false), "report_to": .string("none"),
        ]
        let rewards = RewardScorer(runner: RewardRunner(rewards: [CoinReward()], timeout: 600), maxUnjudgeableSteps: 1_000_000)
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        var rows: [[String: Double]] = []
        loop.onStep = { step, metrics in if step > warmup { rows.append(metrics) } }
        let p = Double(policy.parameters.count) * 4 / 1_048_576
        let state: (mb: Double, models: String)
        if algorithm == "grpo" {
            let config = try GRPOConfig.resolve(overrides: common.merging([
                "per_device_train_batch_size": .int(64), "num_generations": .int(8), "max_completion_length": .int(maxCompletionLength),
                "temperature": .double(1.0), "beta": .double(0), "loss_type": .string("dapo"), "learning_rate": .double(1e-6),
                "log_completions_steps": .int(0), "reward_funcs": .list([.string("coin")]),
            ]) { a, _ in a }, source: "grpo bench ppo-vs-grpo")
            try GRPOTrainer(config: config, policy: policy, reference: nil, codec: codec, prompts: prompts, rewards: rewards, tokenizerSource: nil)
                .train(loop: loop)
            state = (4 * p, "policy (w, g, m, v); no reference at beta 0")
        } else {
            let config = try PPOConfig.resolve(overrides: common.merging([
                "per_device_train_batch_size": .int(ppoMicroBatch), "gradient_accumulation_steps": .int(64 / ppoMicroBatch),
                "num_ppo_epochs": .int(algorithm == "ppo4" ? 4 : 1), "response_length": .int(maxCompletionLength),
                "temperature": .double(1.0), "learning_rate": .double(1e-6), "reward_funcs": .list([.string("coin")]),
            ]) { a, _ in a }, source: "grpo bench ppo-vs-grpo")
            let reference = DecoderModel(config: policy.config)
            reference.parameters.values.pointer.update(from: policy.parameters.values.pointer, count: policy.parameters.count)
            try PPOTrainer(config: config, policy: policy, reference: reference, value: policy.scoreModel(seed: 3), codec: codec,
                           prompts: prompts, rewards: rewards, tokenizerSource: nil).train(loop: loop)
            state = (4 * p + 4 * p + p, "policy and value model (w, g, m, v each), reference (w)")
        }
        func median(_ key: String) -> Double { Clock.median(rows.compactMap { $0[key] }) }
        let keys = ["time/generate", "time/reward", "time/reference", "time/value", "time/policy", "time/optimizer"]
        return RunReport(algorithm: algorithm, parameters: policy.parameters.count, step_seconds: median("step_time"),
                         split: Dictionary(uniqueKeysWithValues: keys.map { ($0, median($0)) }),
                         peak_rss_mb: Double(Clock.peakRSS()) / 1_048_576, model_state_mb: state.mb, models: state.models)
    }
}
