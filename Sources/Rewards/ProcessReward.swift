import Tasks

/// A reward that also scores steps, for process supervision (DeepSeekMath 4.1.3): each step ends
/// at a character offset of the completion and gets its own score.
public protocol ProcessReward: Reward {
    /// Per completion: (end character offset, score) for each step, in order.
    func stepScores(completions: [String], columns: [[String: JSONValue]]) throws -> [[(end: Int, reward: Double)]]
}

extension ProcessReward {
    /// The outcome score of a process reward: the fraction of correct steps (nil without steps).
    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        stepOutcomes(try stepScores(completions: completions, columns: columns))
    }

    /// Steps of each completion on its own (`scoreEach` for step scores), each list followed by the
    /// final-answer step of `withAnswerStep`; a completion whose `steps` are nil (cannot judge) gets none.
    func stepsEach(_ completions: [String], _ columns: [[String: JSONValue]],
                   _ steps: (String, [String: JSONValue]) -> [(end: Int, reward: Double)]?) throws -> [[(end: Int, reward: Double)]] {
        guard completions.count == columns.count else {
            throw RewardError.columnCountMismatch(reward: name, completions: completions.count, columns: columns.count)
        }
        return zip(completions, columns).map { text, row in
            steps(text, row).map { withAnswerStep($0, completion: text, row: row) } ?? []
        }
    }

    /// `steps` plus, when the row has an `answer` column, the final answer as one more step ending at
    /// the end of the completion, scored as `math_answer` scores it.
    func withAnswerStep(_ steps: [(end: Int, reward: Double)], completion text: String,
                        row: [String: JSONValue]) -> [(end: Int, reward: Double)] {
        guard let correct = row["answer"].flatMap({ AnswerExtractor.matches(completion: text, answer: $0) }) else { return steps }
        return steps + [(end: text.count, reward: correct ? 1 : 0)]
    }
}

/// The outcome scores of step scores: each completion's mean step score (nil without steps).
func stepOutcomes(_ steps: [[(end: Int, reward: Double)]]) -> [Double?] {
    steps.map { steps in steps.isEmpty ? nil : steps.reduce(0) { $0 + $1.reward } / Double(steps.count) }
}
