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
    public var outcomes: [Outcome]

    /// N completions x F rewards, the layout `Advantages.compute(rewardsPerFunction:)` takes.
    public var perCompletion: [[Double?]] {
        let count = scores.first?.count ?? 0
        return (0..<count).map { i in scores.map { $0[i] } }
    }

    /// rewards/<name>/mean and rewards/<name>/std over the judged completions (TRL's nanmean and
    /// Bessel-corrected nanstd); a metric is left out when it is undefined (no judged completions, or one
    /// for the std).
    public var metrics: [String: Double] {
        var metrics: [String: Double] = [:]
        for (name, row) in zip(names, scores) {
            let judged = row.compactMap { $0 }
            guard !judged.isEmpty else { continue }
            let mean = judged.reduce(0, +) / Double(judged.count)
            metrics["rewards/\(name)/mean"] = mean
            if judged.count > 1 {
                let squares = judged.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                metrics["rewards/\(name)/std"] = (squares / Double(judged.count - 1)).squareRoot()
            }
        }
        return metrics
    }
}
