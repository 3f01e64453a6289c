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
    /// When set, only rows whose column holds the value are judged (the others: nil).
    let only: (column: String, value: String)?

    public init(name: String, weight: Double = 1, model: DecoderModel, codec: TextCodec, batchSize: Int = 64,
                only: (column: String, value: String)? = nil) throws {
        guard model.config.scoreLabels == 1 else {
            throw RewardError.invalidOption(reward: name, option: "model", expected: "a sequence-classification model with one label",
                                            actual: model.config.scoreLabels.map { "\($0) labels" } ?? "a causal LM")
        }
        self.name = name
        self.weight = weight
        self.model = model
        self.codec = codec
        self.batchSize = max(batchSize, 1)
        self.only = only
    }

    /// `rm:PATH[?column=value]`: the reward model folder at PATH, with its own tokenizer.
    public static func load(_ spec: String, weight: Double) throws -> RewardModelReward {
        let parts = spec.split(separator: "?", maxSplits: 1).map(String.init)
        let path = parts.first ?? spec
        let selector = parts.count > 1 ? parts[1].split(separator: "=", maxSplits: 1).map(String.init) : []
        guard parts.count == 1 || (selector.count == 2 && !selector[0].isEmpty) else {
            throw RewardError.invalidOption(reward: "rm:" + spec, option: "selector", expected: "?column=value", actual: "'?\(parts[1])'")
        }
        let bundle = try ModelBundle.load(path)
        return try RewardModelReward(name: "rm:" + URL(fileURLWithPath: path).lastPathComponent, weight: weight, model: bundle.model,
                                     codec: bundle.codec, only: selector.count == 2 ? (selector[0], selector[1]) : nil)
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        let judged = columns.map { row in only.map { row[$0.column]?.stringValue == $0.value } ?? true }
        let selected = zip(zip(completions, columns), judged).filter(\.1).map(\.0)
        var scores = try scoreAll(selected.map(\.0), selected.map(\.1)).makeIterator()
        return judged.map { $0 ? scores.next() ?? nil : nil }
    }

    func scoreAll(_ completions: [String], _ columns: [[String: JSONValue]]) throws -> [Double?] {
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
