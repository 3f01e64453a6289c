import ArgumentParser
import Evaluation
import Foundation
import Rewards
import Tasks
import TensorCore
import Tokenization
import Training
import Transformer

/// `grpo train sft|grpo`: the trainers, configured by YAML with `--set key=value` overrides.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (supervised fine-tuning or GRPO).",
        subcommands: [SFTCommand.self, GRPOCommand.self])
}

/// Options both trainers share.
struct TrainOptions: ParsableArguments {
    @Option(help: "YAML config (keys: see --help).") var config: String?
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable; wins over the file).")
    var overrides: [String] = []
    @Flag(help: "Continue from the latest checkpoint in output_dir.") var resume = false
    @Flag(help: "Skip malformed JSONL lines (counted) instead of stopping at the first.") var skipBadLines = false

    func resolve(_ schema: ConfigSchema) throws -> ResolvedConfig {
        try schema.resolve(file: config.map { URL(fileURLWithPath: $0) }, overrides: overrides)
    }
}

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft", abstract: "Supervised fine-tuning on prompt/completion rows.",
        discussion: "Config keys:\n" + SFTConfig.schema.documentation)

    @OptionGroup var options: TrainOptions

    func run() throws {
        let config = try SFTConfig(options.resolve(SFTConfig.schema))
        let (model, tokenizer) = try ModelLoading.modelAndTokenizer(config.model)
        let data = try TrainingData(tokenizer: tokenizer, useChatTemplate: config.useChatTemplate)
        func examples(_ rows: [Row]) throws -> [SFTExample] {
            try rows.map { row in
                guard let completion = row.completionText else { throw ValidationError("a row of \(config.trainFile) has no `completion`") }
                return SFTExample(prompt: try data.promptText(row), completion: completion, columns: row.columns)
            }
        }
        let train = try examples(TrainingData.rows(config.trainFile, skipBadLines: options.skipBadLines))
        let eval = try config.evalFile.map { try examples(TrainingData.rows($0, skipBadLines: options.skipBadLines)) } ?? []
        let codec = TokenizerCodec(tokenizer: tokenizer, eosTokenIDs: ModelLoading.eosTokenIDs(config.model, model: model, tokenizer: tokenizer))
        let source = ModelLoading.isGGUF(config.model) ? nil : URL(fileURLWithPath: config.model)
        let trainer = try SFTTrainer(config: config, model: model, codec: codec, train: train, eval: eval, tokenizerSource: source,
                                     verify: TrainingData.verifier(config.verifier))
        if source == nil { try tokenizer.save(to: try scratchTokenizerFolder(config.outputDir)) }
        try trainer.run(resume: options.resume)
    }
}

/// For GGUF-started runs, the tokenizer files checkpoints copy.
func scratchTokenizerFolder(_ outputDir: String) throws -> URL {
    let url = URL(fileURLWithPath: outputDir).appendingPathComponent("tokenizer")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo", abstract: "Group Relative Policy Optimization from a model folder, SFT checkpoint or GGUF file.",
        discussion: "Config keys (TRL's GRPOConfig names):\n" + GRPOConfig.schema.documentation
            + "\nReward functions: " + BuiltinRewards.names.joined(separator: ", "))

    @OptionGroup var options: TrainOptions

    func run() throws {
        let config = try GRPOConfig(options.resolve(GRPOConfig.schema))
        let session = try GRPOSession(config: config, skipBadLines: options.skipBadLines)
        try session.trainer.run(resume: options.resume)
    }
}

/// Everything a GRPO run needs, built from its config (shared by `train grpo` and `demo`).
struct GRPOSession {
    let trainer: GRPOTrainer
    let evaluator: Evaluator
    let evalPrompts: [[Int32]]
    let evalColumns: [[String: JSONValue]]

    init(config: GRPOConfig, skipBadLines: Bool = false, quiet: Bool = false) throws {
        let (policy, tokenizer) = try ModelLoading.modelAndTokenizer(config.model)
        let reference: DecoderModel? = config.loss.beta != 0 ? try ModelLoading.model(config.model) : nil
        let data = try TrainingData(tokenizer: tokenizer, useChatTemplate: config.useChatTemplate)
        let codec = TokenizerCodec(tokenizer: tokenizer, eosTokenIDs: ModelLoading.eosTokenIDs(config.model, model: policy, tokenizer: tokenizer))
        let prompts = try TrainingData.rows(config.trainFile, skipBadLines: skipBadLines).map { row in
            let text = try data.promptText(row)
            return GRPOPrompt(text: text, ids: try codec.encode(text), columns: row.columns)
        }
        let rewards = try zip(config.rewardFunctions, config.weights).map { try BuiltinRewards.make($0, weight: $1) }
        let source = ModelLoading.isGGUF(config.model) ? nil : URL(fileURLWithPath: config.model)
        trainer = try GRPOTrainer(config: config, policy: policy, reference: reference, codec: codec, prompts: prompts,
                                  rewards: RunnerRewards(runner: RewardRunner(rewards: rewards, timeout: config.rewardTimeout)),
                                  tokenizerSource: source)
        let verify = TrainingData.verifier(config.rewardFunctions.contains("countdown") ? "countdown" : "math_answer")
        evaluator = Evaluator(model: policy, decode: { codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs, isCorrect: verify,
                              finalAnswer: { text in AnswerExtractor.finalAnswer(in: text).map { "\($0)" } })
        let evalRows = try config.evalFile.map { try TrainingData.rows($0, skipBadLines: skipBadLines) } ?? []
        let chosen = Array(evalRows.prefix(config.evalSamples))
        evalPrompts = try chosen.map { try codec.encode(try data.promptText($0)) }
        evalColumns = chosen.map(\.columns)
        if !evalPrompts.isEmpty {
            let (evaluator, prompts, columns) = (evaluator, evalPrompts, evalColumns)
            trainer.evaluate = { step in
                let report = evaluator.run(prompts: prompts, columns: columns, k: config.evalNumSamples,
                                           temperature: Float(config.evalTemperature), maxNewTokens: config.maxCompletionLength,
                                           seed: UInt64(config.seed) &+ 17)
                if !quiet {
                    print(String(format: "\nstep %d held-out (%d problems): greedy %.1f%%  pass@1 %.1f%%  pass@%d %.1f%%  maj@%d %.1f%%",
                                 step, report.problems, 100 * report.greedy, 100 * report.pass1, report.k, 100 * report.passK,
                                 report.k, 100 * report.majK))
                }
                return report.metrics
            }
        }
        if source == nil { try tokenizer.save(to: try scratchTokenizerFolder(config.outputDir)) }
    }
}
