import TensorCore

/// Three-digit addition as a character-level language task: the prompt "123+456=", then the answer
/// "579" and an end token.
///
/// Operands run from 000 to 999, zero-padded, so every prompt is 8 tokens. The sum is written
/// without leading zeros (1 to 4 digits), then `end`, then `pad` up to a fixed length of 13, so
/// every sequence of a batch has the same length and positions 0..<T. Trailing pads need no
/// attention mask: a causal query never sees a later key. They carry no loss.
///
/// The held-out problems are drawn once from their own generator; training problems are drawn
/// from another and rejected when they are held out, so the two splits are disjoint.
struct AdditionTask {
    /// Token ids: the digits 0-9 are their own ids.
    enum Token {
        static let plus: Int32 = 10
        static let equals: Int32 = 11
        static let end: Int32 = 12
        static let pad: Int32 = 13
        static let vocabularySize = 14
    }

    /// One question, a + b.
    struct Problem: Hashable {
        let a: Int
        let b: Int
    }

    /// Next-token training data for a batch: inputs and targets, both (B*T) row-major.
    struct Batch {
        let ids: [Int32]
        /// The token after each position where it is an answer token (digits and end), else -100.
        let targets: [Int32]
        let size: Int
        let time: Int
    }

    static let operandDigits = 3
    static let operandLimit = 1_000
    /// "ddd+ddd=": 8 tokens.
    static let promptLength = 2 * operandDigits + 2
    /// Up to 4 digits of the sum, then end.
    static let maxAnswerLength = operandDigits + 2
    /// The length of every full sequence (13); a model reads the first 12 tokens of it.
    static let sequenceLength = promptLength + maxAnswerLength

    /// The held-out problems, distinct, in drawing order.
    let testProblems: [Problem]
    private let testSet: Set<Problem>

    /// Draws `testCount` distinct held-out problems from `generator`.
    init(testCount: Int, generator: inout SeededGenerator) {
        var problems: [Problem] = []
        var seen = Set<Problem>()
        while problems.count < testCount {
            let problem = Self.randomProblem(using: &generator)
            if seen.insert(problem).inserted { problems.append(problem) }
        }
        testProblems = problems
        testSet = seen
    }

    /// A uniformly random problem that is not held out.
    func trainingProblem(using generator: inout SeededGenerator) -> Problem {
        while true {
            let problem = Self.randomProblem(using: &generator)
            if !testSet.contains(problem) { return problem }
        }
    }

    /// A batch of `size` fresh training problems.
    func trainingBatch(size: Int, using generator: inout SeededGenerator) -> Batch {
        let time = Self.sequenceLength - 1
        var ids: [Int32] = [], targets: [Int32] = []
        ids.reserveCapacity(size * time)
        targets.reserveCapacity(size * time)
        for _ in 0..<size {
            let sequence = Self.sequence(trainingProblem(using: &generator))  // (T + 1)
            for t in 0..<time {
                let next = sequence[t + 1]
                let isAnswer = t + 1 >= Self.promptLength && next != Token.pad
                ids.append(sequence[t])
                targets.append(isAnswer ? next : -100)
            }
        }
        return Batch(ids: ids, targets: targets, size: size, time: time)
    }

    /// "ddd+ddd=" as token ids.
    static func prompt(_ problem: Problem) -> [Int32] {
        digits(problem.a, width: operandDigits) + [Token.plus] + digits(problem.b, width: operandDigits) + [Token.equals]
    }

    /// The sum's digits, without leading zeros, then end.
    static func answer(_ problem: Problem) -> [Int32] {
        digits(problem.a + problem.b, width: 1) + [Token.end]
    }

    /// Prompt, answer and trailing pads: `sequenceLength` tokens.
    static func sequence(_ problem: Problem) -> [Int32] {
        let tokens = prompt(problem) + answer(problem)
        return tokens + Array(repeating: Token.pad, count: sequenceLength - tokens.count)
    }

    /// Whether a generated continuation is exactly the answer, end token included.
    static func isCorrect(_ completion: [Int32], for problem: Problem) -> Bool {
        completion == answer(problem)
    }

    /// Token ids as text, for showing samples: "+", "=", "<end>", "<pad>".
    static func text(_ tokens: [Int32]) -> String {
        tokens.map { token in
            switch token {
            case 0...9: String(token)
            case Token.plus: "+"
            case Token.equals: "="
            case Token.end: "<end>"
            default: "<pad>"
            }
        }.joined()
    }

    private static func randomProblem(using generator: inout SeededGenerator) -> Problem {
        Problem(a: generator.nextInt(below: operandLimit), b: generator.nextInt(below: operandLimit))
    }

    /// The decimal digits of `value`, left-padded with zeros to at least `width`.
    private static func digits(_ value: Int, width: Int) -> [Int32] {
        let text = String(value)
        let padded = String(repeating: "0", count: max(0, width - text.count)) + text
        return padded.map { Int32($0.wholeNumberValue!) }
    }
}
