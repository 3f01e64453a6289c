import ArgumentParser
import Foundation
import Tasks
import Training

/// `grpo sample`: rejection sampling into SFT rows (DeepSeek-R1's synthetic SFT data).
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample k completions per prompt, score them, keep what the policy says, write SFT-ready JSONL rows.",
        discussion: "A sample is correct when its combined reward reaches --threshold. Prompts whose pass rate falls outside --pass-rate "
            + "are dropped; --keep best keeps each prompt's best sample when it is correct, all-correct keeps every correct one.")

    @Option(help: "A model folder (e.g. a checkpoint) or .gguf file.") var model: String
    @Option(help: "JSONL rows with `prompt` and the columns the rewards read.") var data: String
    @Option(name: .customShort("k"), help: "Samples per prompt.") var k = 8
    @Option(help: "Reward functions, comma-separated (as reward_funcs).") var rewardFuncs = "math_answer"
    @Option(help: "Their weights, comma-separated (default: all 1).") var rewardWeights: String?
    @Option(help: "best or all-correct.") var keep = "best"
    @Option(help: "Keep prompts whose pass rate is in LOW:HIGH.") var passRate = "0:1"
    @Option(help: "A sample is correct when its combined reward is at least this.") var threshold = 1.0
    @Flag(help: "Drop repeated completions of a prompt.") var dedupe = false
    @Option(help: "New tokens per completion at most.") var maxNewTokens = 48
    @Option(help: "Sampling temperature.") var temperature = 1.0
    @Option(help: "Use the first N rows (0: all).") var samples = 0
    @Option(help: "Seed of the samples.") var seed: UInt64 = 1
    @Flag(help: "Wrap prompts with the tokenizer's chat template.") var useChatTemplate = false
    @Option(help: "The JSONL file to write.") var out: String

    var range: ClosedRange<Double>? {
        let parts = passRate.split(separator: ":").compactMap { Double($0) }
        return parts.count == 2 && parts[0] <= parts[1] ? parts[0]...parts[1] : nil
    }

    func validate() throws {
        guard k >= 1, maxNewTokens >= 1, temperature > 0, samples >= 0 else {
            throw ValidationError("-k >= 1, --max-new-tokens >= 1, --temperature > 0 and --samples >= 0 are required")
        }
        // k completions of each prompt are sampled as one batch: as --num-return and num_generations.
        guard k <= 4096 else { throw ValidationError("-k must be in 1...4096, got \(k)") }
        guard RejectionSampler.Keep(rawValue: keep) != nil else { throw ValidationError("--keep must be best or all-correct, got \(keep)") }
        guard range != nil else { throw ValidationError("--pass-rate must be LOW:HIGH with LOW <= HIGH, got \(passRate)") }
    }

    func run() throws {
        var rewardConfig = RewardConfig()
        rewardConfig.functions = rewardFuncs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        rewardConfig.weights = rewardWeights.map { $0.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } } ?? []
        try rewardConfig.check()
        let bundle = try ModelBundle.load(model)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: useChatTemplate, model: model)
        var rows = try DatasetFile.rows(data)
        if samples > 0 { rows = Array(rows.prefix(samples)) }
        let prompts = try TrainingPrompt.load(rows: rows, file: data, formatter: formatter, codec: bundle.codec,
                                              positions: bundle.model.config.maxPositionEmbeddings, completionTokens: maxNewTokens)
        var sampler = RejectionSampler()
        sampler.k = k
        sampler.maxNewTokens = maxNewTokens
        sampler.temperature = temperature
        sampler.threshold = threshold
        sampler.passRate = range ?? 0...1
        sampler.keep = RejectionSampler.Keep(rawValue: keep) ?? .best
        sampler.dedupe = dedupe
        sampler.seed = seed
        let (kept, summary) = try sampler.run(model: bundle.model, codec: bundle.codec, prompts: prompts, rows: rows,
                                              rewards: try RewardScorer(rewardConfig))
        try JSONL.write(kept, to: URL(fileURLWithPath: out))
        print(summary.description + "; wrote \(out)")
    }
}
