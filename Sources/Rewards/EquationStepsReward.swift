import Foundation
import Tasks

/// A reward that also scores steps, for process supervision (DeepSeekMath 4.1.3): each step ends
/// at a character offset of the completion and gets its own score.
public protocol ProcessReward: Reward {
    /// Per completion: (end character offset, score) for each step, in order.
    func stepScores(completions: [String], columns: [[String: JSONValue]]) throws -> [[(end: Int, reward: Double)]]
}

extension ProcessReward {
    /// The outcome score of a process reward: the fraction of correct steps (nil without steps).
    func fractionOfCorrectSteps(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try stepScores(completions: completions, columns: columns).map { steps in
            steps.isEmpty ? nil : steps.reduce(0) { $0 + $1.reward } / Double(steps.count)
        }
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

/// A rule-based process reward for arithmetic reasoning: every equation `expression = value` in
/// the completion is a step, scored 1 when the expression evaluates exactly (Rational arithmetic,
/// `x` read as `*`) to the value and 0 otherwise. When the row has a numeric `answer` column, the
/// final answer is one more step, ending at the end of the completion and scored as `math_answer`
/// scores it, so a true working followed by a wrong answer is not a fully rewarded completion.
/// The outcome score is the fraction of correct steps (nil when there is nothing to judge).
public struct EquationStepsReward: ProcessReward {
    public let name = "equation_steps"
    public let weight: Double

    public init(weight: Double = 1) { self.weight = weight }

    /// `a op b ... = c` with integers, + - * x / and parentheses; the match ends after c.
    static let pattern = try! NSRegularExpression(pattern: #"([0-9][0-9+\-*x/() ]*[0-9)])\s*=\s*(-?[0-9]+(?:\.[0-9]+)?)"#)

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try fractionOfCorrectSteps(completions: completions, columns: columns)
    }

    public func stepScores(completions: [String], columns: [[String: JSONValue]]) throws -> [[(end: Int, reward: Double)]] {
        try stepsEach(completions, columns) { text, _ in equations(in: text) }
    }

    /// The equation steps of one completion, in order.
    func equations(in text: String) -> [(end: Int, reward: Double)] {
        let ns = text as NSString
        return Self.pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { match in
            let expression = ns.substring(with: match.range(at: 1)).replacingOccurrences(of: "x", with: "*")
            let claimed = Rational(ns.substring(with: match.range(at: 2)))
            let value = try? ExpressionParser().parse(expression).evaluate()
            // The end as a Character offset (the trainer maps it to a token).
            let end = String(ns.substring(to: match.range.location + match.range.length)).count
            return (end: end, reward: (value != nil && value == claimed) ? 1 : 0)
        }
    }
}
