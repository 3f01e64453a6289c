/// A prompt of the training set: its text, its tokens, and the dataset columns rewards read.
public struct GRPOPrompt: Sendable {
    public var text: String
    public var ids: [Int32]
    public var columns: [String: String]

    public init(text: String, ids: [Int32], columns: [String: String]) {
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
