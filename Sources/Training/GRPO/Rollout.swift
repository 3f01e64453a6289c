import Generation

/// One sampled completion with everything the loss needs.
struct Rollout {
    /// Index into the trainer's prompts.
    let prompt: Int
    var completion: Completion
    /// Each reward function's score (nil: cannot judge) and their weighted sum.
    var scores: [Double?] = []
    var reward: Double? = nil
    /// Per completion token.
    var advantage: [Double]
    var referenceLogprobs: [Float]?
    /// False for truncated completions when mask_truncated_completions is set.
    var lossMask: Bool
}

/// A scored generation batch: P prompts x G rollouts, grouped, and the figures measured making it.
struct GenerationBatch {
    var rollouts: [Rollout]
    var metrics: [String: Double]
    /// Split over ranks: where this rank's rollouts start in the whole batch, and its size.
    var share: (offset: Int, total: Int)? = nil
}
