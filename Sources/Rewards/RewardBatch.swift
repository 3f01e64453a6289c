import Foundation

/// The scores of one batch from every reward of a `RewardRunner`.
public struct RewardBatch: Sendable {
    /// How one reward's call went.
    public enum Outcome: Sendable, Equatable {
        case scored
        /// It threw or returned the wrong number of scores; the message says which.
        case failed(String)
        case timedOut
    }

    public var names: [String]
    public var weights: [Double]
    /// F rewards x N completions; nil = cannot judge (and every entry of a failed or timed-out call).
    public var scores: [[Double?]]
    /// Per reward: a process reward's steps for each completion, (end character offset, score) per
    /// step; nil for outcome rewards and for failed calls.
    public var steps: [[[(end: Int, reward: Double)]]?]
    public var outcomes: [Outcome]

    public init(names: [String], weights: [Double], scores: [[Double?]], steps: [[[(end: Int, reward: Double)]]?],
                outcomes: [Outcome]) {
        self.names = names
        self.weights = weights
        self.scores = scores
        self.steps = steps
        self.outcomes = outcomes
    }

    /// N completions x F rewards, the layout `Advantages.compute(rewardsPerFunction:)` takes.
    public var perCompletion: [[Double?]] {
        let count = scores.first?.count ?? 0
        return (0..<count).map { i in scores.map { $0[i] } }
    }

    /// The steps of the first process reward that scored, for process supervision.
    public var processSteps: [[(end: Int, reward: Double)]]? { steps.lazy.compactMap { $0 }.first }

    /// The same batch restricted to completions `indices` (in that order).
    public func selecting(_ indices: [Int]) -> RewardBatch {
        RewardBatch(names: names, weights: weights, scores: scores.map { row in indices.map { row[$0] } },
                    steps: steps.map { $0.map { all in indices.map { all[$0] } } }, outcomes: outcomes)
    }

    /// The batches' completions one after another (outcomes: the first failure of each reward).
    public static func concatenating(_ batches: [RewardBatch]) -> RewardBatch? {
        guard let first = batches.first else { return nil }
        var joined = first
        for b in batches.dropFirst() {
            for f in joined.scores.indices {
                joined.scores[f] += b.scores[f]
                joined.steps[f] = joined.steps[f].flatMap { mine in b.steps[f].map { mine + $0 } }
                if joined.outcomes[f] == .scored { joined.outcomes[f] = b.outcomes[f] }
            }
        }
        return joined
    }

    /// rewards/<name>/mean and rewards/<name>/std over the judged completions (`NaNStatistics`: TRL's
    /// nanmean and Bessel-corrected nanstd; NaN where undefined, as TRL logs it).
    public var metrics: [String: Double] {
        var metrics: [String: Double] = [:]
        for (name, row) in zip(names, scores) {
            metrics["rewards/\(name)/mean"] = NaNStatistics.mean(row) ?? .nan
            metrics["rewards/\(name)/std"] = NaNStatistics.std(row) ?? .nan
        }
        return metrics
    }
}
