import Tasks

/// The countdown task's verifier as a reward: 1.0 when the completion's expression (the last
/// <answer>...</answer>, else the whole text) uses the row's `numbers` as allowed and equals its `target`
/// exactly, else 0.0. With `formatScore` > 0 (TinyZero uses 0.1; ours defaults to 0), a wrong answer that is at
/// least inside <answer></answer> tags scores `formatScore`. A row without `numbers` and `target` scores nil.
public struct CountdownReward: Reward {
    public var name: String
    public var weight: Double
    public var verifier: Verifier
    public var formatScore: Double

    public init(name: String = "countdown", weight: Double = 1, useEachNumberExactlyOnce: Bool = false,
                formatScore: Double = 0) {
        self.name = name
        self.weight = weight
        verifier = Verifiers.countdown(useEachNumberExactlyOnce: useEachNumberExactlyOnce)
        self.formatScore = formatScore
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreEach(completions, columns) { completion, row in
            guard let correct = verifier.check(completion, row) else { return nil }
            if correct { return 1 }
            let tagged = AnswerExtractor.tagContent("answer", in: completion) != nil
            return formatScore > 0 && tagged ? formatScore : 0
        }
    }
}
