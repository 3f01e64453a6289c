import Rewards
import Tasks

/// A prompt of the training set: its text, its tokens, and the dataset columns rewards read.
public struct GRPOPrompt: Sendable {
    public var text: String
    public var ids: [Int32]
    public var columns: [String: JSONValue]

    public init(text: String, ids: [Int32], columns: [String: JSONValue]) {
        self.text = text
        self.ids = ids
        self.columns = columns
    }
}

/// Scores a batch of completions with every reward function (the CLI adapts the Rewards module).
public protocol RewardProvider {
    /// Reward function names, in order (metrics are rewards/<name>/mean).
    var names: [String] { get }
    /// Scores N completions: N x F, nil where a function cannot judge (or threw, or timed out).
    func score(completions: [String], prompts: [GRPOPrompt]) -> [[Double?]]
    /// Per-step scores for process supervision: for each completion, (end character offset in the
    /// text, reward) per step. Nil when no function gives step scores.
    func stepScores(completions: [String], prompts: [GRPOPrompt]) -> [[(end: Int, reward: Double)]]?
    /// Calls that failed (threw or timed out) so far, per function.
    var failures: [String: Int] { get }
}

/// The Rewards module's runner (built-in or user rewards, each with a timeout) as the trainer's
/// reward provider; the first process reward among them gives the step scores.
public final class RunnerRewards: RewardProvider {
    public let runner: RewardRunner

    public init(runner: RewardRunner) { self.runner = runner }

    public var names: [String] { runner.rewards.map(\.name) }

    public func score(completions: [String], prompts: [GRPOPrompt]) -> [[Double?]] {
        let columns = prompts.map(\.columns)
        guard let batch = try? runner.score(completions: completions, columns: columns) else {
            return completions.map { _ in names.map { _ in nil } }
        }
        return batch.perCompletion
    }

    public func stepScores(completions: [String], prompts: [GRPOPrompt]) -> [[(end: Int, reward: Double)]]? {
        guard let process = runner.rewards.lazy.compactMap({ $0 as? any ProcessReward }).first else { return nil }
        return try? process.stepScores(completions: completions, columns: prompts.map(\.columns))
    }

    public var failures: [String: Int] {
        Dictionary(uniqueKeysWithValues: runner.statistics.map { ($0.name, $0.failures + $0.timeouts) })
    }
}
