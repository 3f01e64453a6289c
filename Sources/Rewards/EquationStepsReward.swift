import Foundation
import Tasks

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
