import Tasks

/// 1.0 when the completion's final answer equals the row's answer column exactly, else 0.0.
///
/// The answer is found by `AnswerExtractor.finalAnswer(in:)`: the last <answer>...</answer>, else the last
/// \boxed{...}, else the last number. Integers, decimals, fractions ("3/4"), "1,000" and LaTeX \frac/\dfrac
/// compare as exact rationals, so "0.75" = "3/4" = "\frac{3}{4}" and "0.30" = 0.3, but "0.333" != "1/3".
/// A completion with no number scores 0.0 (wrong). A row without the column, or whose reference is not a
/// number (a countdown expression, say), scores nil: cannot judge.
public struct MathAnswerReward: Reward {
    public var name: String
    public var weight: Double
    /// The column holding the reference answer.
    public var answerColumn: String

    public init(name: String = "math_answer", weight: Double = 1, answerColumn: String = "answer") {
        self.name = name
        self.weight = weight
        self.answerColumn = answerColumn
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        let verifier = Verifiers.mathAnswer(column: answerColumn)
        return try scoreEach(completions, columns) { completion, row in verifier.check(completion, row).map { $0 ? 1 : 0 } }
    }
}
