/// Whether a completion answers its row: the one check behind the answer rewards (`math_answer`,
/// `countdown`), SFT's held-out accuracy, GRPO's held-out pass@k and `grpo eval`.
public struct Verifier: Sendable {
    /// The name configs use (`verifier: countdown`).
    public let name: String
    /// true or false, or nil when the row lacks what the check reads (cannot judge).
    public let check: @Sendable (_ completion: String, _ columns: [String: JSONValue]) -> Bool?
    /// The completion's final answer as text, for majority voting (maj@k); nil when it has none.
    public let finalAnswer: @Sendable (_ completion: String) -> String?
    /// Checks many completions at once, when that is cheaper than one by one (running code).
    public let checkBatch: (@Sendable (_ completions: [String], _ columns: [[String: JSONValue]]) -> [Bool?])?

    public init(name: String, check: @escaping @Sendable (String, [String: JSONValue]) -> Bool?,
                finalAnswer: @escaping @Sendable (String) -> String?,
                checkBatch: (@Sendable ([String], [[String: JSONValue]]) -> [Bool?])? = nil) {
        self.name = name
        self.check = check
        self.finalAnswer = finalAnswer
        self.checkBatch = checkBatch
    }

    /// Checks every completion against its row: through `checkBatch` when there is one.
    public func checkAll(_ completions: [String], _ columns: [[String: JSONValue]]) -> [Bool?] {
        if let checkBatch { return checkBatch(completions, columns) }
        return zip(completions, columns).map { check($0, $1) }
    }
}

/// The registry of verifiers, by name.
public enum Verifiers {
    public static let names = ["math_answer", "countdown", "reasoning_gym", "none"]

    /// The completion's final answer (`AnswerExtractor.finalAnswer`) equals the row's `column`
    /// (default `answer`) exactly, as rationals.
    public static func mathAnswer(column: String = "answer") -> Verifier {
        Verifier(name: "math_answer",
                 check: { completion, row in row[column].flatMap { AnswerExtractor.matches(completion: completion, answer: $0) } },
                 finalAnswer: { AnswerExtractor.finalAnswer(in: $0).map { "\($0)" } })
    }

    /// The completion's expression uses the row's `numbers` as allowed and equals its `target`
    /// (`CountdownVerifier`); the final answer is the expression.
    public static func countdown(useEachNumberExactlyOnce: Bool = false) -> Verifier {
        let verifier = CountdownVerifier(useEachNumberExactlyOnce: useEachNumberExactlyOnce)
        return Verifier(name: "countdown",
                        check: { completion, row in
                            guard let (numbers, target) = CountdownTask.numbersAndTarget(row) else { return nil }
                            return verifier.check(completion: completion, numbers: numbers, target: target) == .correct
                        },
                        finalAnswer: { completion in
                            let expression = CountdownVerifier.expression(in: completion)
                            return expression.isEmpty ? nil : expression.replacingOccurrences(of: " ", with: "")
                        })
    }

    /// reasoning-gym's verdict: the completion's answer (`ReasoningGymAnswer.extract`) scores 1.0 by the
    /// `score_answer` of the row's `source_dataset` (`ReasoningGymScorer`) against its `answer`. Nil when
    /// the row lacks either column, or names a dataset we have no scorer for.
    public static func reasoningGym(answerColumn: String = "answer", datasetColumn: String = "source_dataset") -> Verifier {
        Verifier(name: "reasoning_gym",
                 check: { completion, row in
                     guard let oracle = row[answerColumn]?.stringValue,
                           let scorer = row[datasetColumn]?.stringValue.flatMap(ReasoningGymScorer.init(dataset:)) else { return nil }
                     return scorer.isCorrect(answer: ReasoningGymAnswer.extract(from: completion), oracle: oracle)
                 },
                 finalAnswer: { ReasoningGymAnswer.extract(from: $0) })
    }

    /// Judges nothing (held-out loss only).
    public static let none = Verifier(name: "none", check: { _, _ in nil }, finalAnswer: { _ in nil })

    /// The verifier called `name`, with its default options.
    public static func named(_ name: String) throws(TaskError) -> Verifier {
        switch name {
        case "math_answer": return mathAnswer()
        case "countdown": return countdown()
        case "reasoning_gym": return reasoningGym()
        case "none": return none
        default: throw TaskError.unknownVerifier(name: name, known: names)
        }
    }
}

import Foundation
