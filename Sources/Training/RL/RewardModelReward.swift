import Foundation
import Rewards
import Tasks
import TensorCore
import Transformer

/// A learned reward: a sequence-classification model (`score` head of one label) scores prompt +
/// completion as `RewardSequence` reads it (the end token appended, the score at the last
/// non-padding token), the rule `grpo train rm` trains with (TRL's RewardTrainer).
/// Batched forward passes without gradients, `batchSize` rows at a time. The prompt comes from the
/// row's `prompt` column, which the trainers add for every reward.
public struct RewardModelReward: Reward, @unchecked Sendable {
    public let name: String
    public let weight: Double
    let model: DecoderModel
    let codec: TextCodec
    let batchSize: Int

    public init(name: String, weight: Double = 1, model: DecoderModel, codec: TextCodec, batchSize: Int = 64) throws {
        guard model.config.scoreLabels == 1 else {
            throw RewardError.invalidOption(reward: name, option: "model", expected: "a sequence-classification model with one label",
                                            actual: model.config.scoreLabels.map { "\($0) labels" } ?? "a causal LM")
        }
        self.name = name
        self.weight = weight
        self.model = model
        self.codec = codec
        self.batchSize = max(batchSize, 1)
    }

    /// `rm:PATH`: the reward model folder at PATH, with its own tokenizer.
    public static func load(_ path: String, weight: Double) throws -> RewardModelReward {
        let bundle = try ModelBundle.load(path)
        return try RewardModelReward(name: "rm:" + URL(fileURLWithPath: path).lastPathComponent, weight: weight, model: bundle.model,
                                     codec: bundle.codec)
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreAll(completions, columns)
    }

    /// Prompt + completion read by `RewardSequence`'s rule (the end token appended, as in training).
    func scoreAll(_ completions: [String], _ columns: [[String: JSONValue]]) throws -> [Double?] {
        let sequence = RewardSequence(model: model, codec: codec)
        let rows = try zip(completions, columns).map { completion, row -> [Int32] in
            Array(try sequence.ids((row["prompt"]?.stringValue ?? "") + completion, codec: codec).suffix(model.config.maxPositionEmbeddings))
        }
        return sequence.scores(model, rows, batchSize: batchSize)
    }
}
