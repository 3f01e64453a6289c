import Foundation
import Generation
import Rewards
import Tasks
import TensorCore
import Transformer

/// Rejection sampling (DeepSeek-R1's synthetic SFT data; open-r1's pass-rate filter): k completions
/// per prompt from a policy, scored with reward functions; a sample is correct when its combined
/// reward reaches `threshold`. Prompts whose pass rate (correct samples / k) falls outside
/// `passRate` are dropped (too easy or too hard); of the rest, `keep` decides what becomes an SFT
/// row: the best sample (highest reward, the first on ties) when it is correct, or every correct one;
/// `dedupe` drops repeated completions of a prompt.
public struct RejectionSampler {
    public enum Keep: String, Sendable {
        case best, allCorrect = "all-correct"
    }

    public var k = 8
    public var maxNewTokens = 48
    public var temperature = 1.0
    public var threshold = 1.0
    public var passRate: ClosedRange<Double> = 0...1
    public var keep = Keep.best
    public var dedupe = true
    public var seed: UInt64 = 0
    /// Prompts per generation call (each k samples).
    public var batchPrompts = 8

    public init() {}

    /// What a sampling run kept and why it dropped the rest.
    public struct Summary: Sendable, CustomStringConvertible {
        public var prompts = 0, samples = 0, correctSamples = 0
        public var tooEasy = 0, tooHard = 0, keptPrompts = 0, keptRows = 0, duplicatesDropped = 0

        public init() {}

        public var description: String {
            "\(prompts) prompts x k = \(samples) samples, \(correctSamples) correct (\(String(format: "%.1f%%", 100 * Double(correctSamples) / Double(max(samples, 1)))));"
                + " prompts dropped by pass rate: \(tooEasy) too easy, \(tooHard) too hard; kept \(keptRows) rows from \(keptPrompts) prompts"
                + (duplicatesDropped > 0 ? "; \(duplicatesDropped) duplicate completions dropped" : "")
        }
    }

    /// Samples, scores and filters; returns the SFT rows (prompt, completion, the row's columns and
    /// the sample's reward) and the summary.
    public func run(model: DecoderModel, codec: TextCodec, prompts: [TrainingPrompt], rows: [Row], rewards: RewardScorer,
                    log: (String) -> Void = { print($0) }) throws -> (rows: [Row], summary: Summary) {
        let generator = Generator(model: model) { [codec] in codec.decode($0) }
        var rng = SeededGenerator(seed: seed)
        var out: [Row] = [], summary = Summary()
        let bar = ProgressBar(total: prompts.count, startTime: Date().timeIntervalSince1970)
        defer { bar.breakLine() }
        for start in stride(from: 0, to: prompts.count, by: max(batchPrompts, 1)) {
            let chunk = Array(start..<min(start + max(batchPrompts, 1), prompts.count))
            let completions = generator.generate(prompts: chunk.flatMap { [[Int32]](repeating: prompts[$0].ids, count: k) },
                                                 config: .init(maxNewTokens: maxNewTokens, sampling: .init(temperature: Float(temperature)),
                                                               eosTokenIDs: codec.eosTokenIDs), rng: &rng)
            let owners = chunk.flatMap { [Int](repeating: $0, count: k) }
            let scored = try rewards.score(completions: completions.map(\.text), prompts: owners.map { prompts[$0] }, log: log)
            let combined = Advantages.compute(rewardsPerFunction: scored.perCompletion, weights: scored.weights, groupSize: 1, scaling: .none).rewards
            for (n, p) in chunk.enumerated() {
                let samples = (n * k)..<((n + 1) * k)
                let chosen = choose(rewards: samples.map { combined[$0] }, texts: samples.map { completions[$0].text }, summary: &summary)
                for i in chosen.map({ samples.lowerBound + $0 }) {
                    var columns = rows[p].columns
                    columns["completion"] = .string(completions[i].text)
                    columns["reward"] = .double(combined[i] ?? 0)
                    out.append(Row(prompt: rows[p].prompt, columns: columns))
                }
            }
            let done = chunk.last.map { $0 + 1 } ?? 0
            bar.show(bar.line(step: done, startStep: 0, now: Date().timeIntervalSince1970,
                              figures: [("correct", String(format: "%.1f%%", 100 * Double(summary.correctSamples) / Double(max(summary.samples, 1)))),
                                        ("kept", "\(summary.keptRows)")]), step: done)
        }
        return (out, summary)
    }

    /// Which of one prompt's samples (their combined rewards, nil when unjudged, and texts) become
    /// rows, counted into `summary`.
    public func choose(rewards: [Double?], texts: [String], summary: inout Summary) -> [Int] {
        let score = rewards.map { $0 ?? -.infinity }
        let correct = score.indices.filter { score[$0] >= threshold }
        summary.prompts += 1
        summary.samples += score.count
        summary.correctSamples += correct.count
        let rate = Double(correct.count) / Double(max(score.count, 1))
        if rate < passRate.lowerBound { summary.tooHard += 1; return [] }
        if rate > passRate.upperBound { summary.tooEasy += 1; return [] }
        var chosen: [Int]
        switch keep {
        case .best:
            // The highest reward, the first on ties; kept only when correct.
            let best = score.indices.max { score[$0] < score[$1] || (score[$0] == score[$1] && $0 > $1) }
            chosen = best.map { score[$0] >= threshold ? [$0] : [] } ?? []
        case .allCorrect:
            chosen = correct
        }
        if dedupe {
            var seen = Set<String>()
            let unique = chosen.filter { seen.insert(texts[$0]).inserted }
            summary.duplicatesDropped += chosen.count - unique.count
            chosen = unique
        }
        if !chosen.isEmpty { summary.keptPrompts += 1 }
        summary.keptRows += chosen.count
        return chosen
    }
}
