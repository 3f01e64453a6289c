import Foundation
import Tasks

/// A rule-based process reward against a reference working (DeepSeekMath 4.1.3's process
/// supervision, with the row's worked solution in place of a learned process reward model): the
/// working of a completion (inside <think></think>, else everything before <answer>) is split into
/// steps at commas and newlines, and step i scores 1 when it equals step i of the reference working
/// (the row's `completion` column, split the same way), else 0. Steps past the reference's count
/// score 0. When the row has an `answer` column, the final answer is one more step, ending at the
/// end of the completion, scored as `math_answer` scores it.
///
/// Unlike `equation_steps`, a true equation on the wrong operands (copying the wrong digit in
/// column addition: "2+0+1=3" where the column holds 8 and 0) scores 0. A group whose samples all
/// make the same mistake still gets a signal under `advantage: process`, since the step rewards are
/// normalised over the group's steps: the wrong step is pushed down, the right ones up.
///
/// The outcome score is the fraction of correct steps; nil when the row has no reference working.
public struct ReferenceStepsReward: ProcessReward {
    public let name = "reference_steps"
    public let weight: Double

    public init(weight: Double = 1) { self.weight = weight }

    public func stepScores(completions: [String], columns: [[String: JSONValue]]) throws -> [[(end: Int, reward: Double)]] {
        try stepsEach(completions, columns) { text, row in
            guard let reference = row["completion"]?.stringValue else { return nil }
            let expected = Self.steps(in: reference).map(\.text)
            return Self.steps(in: text).enumerated().map { i, step in
                (end: step.end, reward: i < expected.count && step.text == expected[i] ? 1.0 : 0.0)
            }
        }
    }

    /// The working's steps, trimmed, with the Character offset in `text` where each ends.
    static func steps(in text: String) -> [(text: String, end: Int)] {
        let chars = Array(text)
        var start = 0, end = chars.count
        if let open = text.range(of: "<think>") { start = text.distance(from: text.startIndex, to: open.upperBound) }
        if let close = text.range(of: "</think>") ?? text.range(of: "<answer>") {
            end = text.distance(from: text.startIndex, to: close.lowerBound)
        }
        guard start < end else { return [] }
        var steps: [(text: String, end: Int)] = []
        var from = start
        for i in start...end where i == end || chars[i] == "," || chars[i] == "\n" {
            let piece = String(chars[from..<i]).trimmingCharacters(in: .whitespaces)
            if !piece.isEmpty {
                // The step ends at its last non-blank character.
                var last = i
                while last > from && chars[last - 1].isWhitespace { last -= 1 }
                steps.append((text: piece, end: last))
            }
            from = i + 1
        }
        return steps
    }
}
