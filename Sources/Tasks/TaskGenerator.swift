/// A built-in task: draws seeded random problems; its verifier checks completions against a row's columns.
public protocol TaskGenerator: Sendable {
    /// The name `grpo data make --task` uses.
    var name: String { get }

    /// A random problem; the same generator state always gives the same problem.
    func problem(using random: inout SeededRandom) throws -> Problem

    /// How a completion is checked against a row of this task (from the `Verifiers` registry).
    var answerVerifier: Verifier { get }
}

extension TaskGenerator {
    /// Whether `completion` answers the row whose columns are given; nil when the columns lack what the
    /// verifier needs (cannot judge).
    public func isCorrect(completion: String, columns: [String: JSONValue]) -> Bool? {
        answerVerifier.check(completion, columns)
    }
}
