import Tasks

/// reasoning-gym's verdict as a reward: 1.0 when the completion's answer (the last <answer>...</answer>,
/// else the last number; `ReasoningGymAnswer`) scores 1.0 by reasoning-gym's `score_answer` for the row's
/// `source_dataset` (`ReasoningGymScorer`), else 0.0. A row without `answer` or `source_dataset`, or from a
/// dataset without a scorer here, scores nil: cannot judge.
public struct ReasoningGymReward: Reward {
    public var name: String
    public var weight: Double
    public var verifier: Verifier

    public init(name: String = "reasoning_gym", weight: Double = 1) {
        self.name = name
        self.weight = weight
        verifier = Verifiers.reasoningGym()
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreEach(completions, columns) { completion, row in verifier.check(completion, row).map { $0 ? 1 : 0 } }
    }
}
