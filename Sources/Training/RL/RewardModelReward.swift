import Foundation
import Rewards
import Tasks
import TensorCore
import Transformer

/// A learned reward: a sequence-classification model (`score` head of one label) scores prompt +
/// completion at the last token, as TRL's reward models are read (its `get_reward`, RewardTrainer).
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
        let rows = try zip(completions, columns).map { completion, row -> [Int32] in
            let ids = try codec.encode((row["prompt"]?.stringValue ?? "") + completion)
            return Array(ids.suffix(model.config.maxPositionEmbeddings))
        }
        var scores: [Double?] = []
        for start in stride(from: 0, to: rows.count, by: batchSize) {
            let chunk = Array(rows[start..<min(start + batchSize, rows.count)])
            let time = max(chunk.map(\.count).max() ?? 1, 1)
            var ids = [Int32](repeating: 0, count: chunk.count * time), mask = ids, last: [Int] = []
            for (b, row) in chunk.enumerated() {
                for (j, id) in row.enumerated() {
                    ids[b * time + j] = id
                    mask[b * time + j] = 1
                }
                last.append(b * time + max(row.count - 1, 0))
            }
            let out = model.scores(Tape(recording: false), .init(ids: ids, attentionMask: mask, batch: chunk.count, time: time), positions: last)
            scores += zip(chunk, out.values).map { row, s in row.isEmpty ? nil : Double(s) }
        }
        return scores
    }
}
