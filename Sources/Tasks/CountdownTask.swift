/// The countdown numbers game (TinyZero's task): given 3-4 numbers and a target, write an expression with
/// + - * / and parentheses that uses each number at most once (or exactly once) and equals the target.
///
/// Every generated problem is solvable: the target is the value of a random expression over all the numbers
/// (random order, random tree, random operators), kept when it is an integer in 1...maxTarget. That
/// expression is the row's `answer` (one solution among possibly many); `numbers` and `target` are columns.
public struct CountdownTask: TaskGenerator {
    public static let name = "countdown"
    public var name: String { Self.name }
    /// How many numbers a problem has (drawn uniformly).
    public let numberCount: ClosedRange<Int>
    /// The numbers are drawn from 1...maxNumber.
    public let maxNumber: Int
    /// Targets are integers in 1...maxTarget.
    public let maxTarget: Int
    public let verifier: CountdownVerifier

    public init(numberCount: ClosedRange<Int> = 3...4, maxNumber: Int = 100, maxTarget: Int = 1000,
                useEachNumberExactlyOnce: Bool = false) throws {
        guard numberCount.lowerBound >= 2, numberCount.upperBound <= 6 else {
            throw TaskError.invalidOption(task: Self.name, option: "numbers", expected: "a count within 2...6",
                                          actual: "\(numberCount)")
        }
        guard (1...10_000).contains(maxNumber) else {
            throw TaskError.invalidOption(task: Self.name, option: "max_number", expected: "1...10000", actual: "\(maxNumber)")
        }
        guard (1...1_000_000).contains(maxTarget) else {
            throw TaskError.invalidOption(task: Self.name, option: "max_target", expected: "1...1000000", actual: "\(maxTarget)")
        }
        self.numberCount = numberCount
        self.maxNumber = maxNumber
        self.maxTarget = maxTarget
        verifier = CountdownVerifier(useEachNumberExactlyOnce: useEachNumberExactlyOnce)
    }

    /// Draws until a random expression lands on an integer target in range; gives up (an error, never a hang)
    /// after `maxAttempts`, which only an extreme option choice can reach.
    public func problem(using random: inout SeededRandom) throws -> Problem {
        let maxAttempts = 100_000
        for _ in 0..<maxAttempts {
            let count = random.int(in: numberCount)
            let numbers = (0..<count).map { _ in random.int(in: 1...maxNumber) }
            let expression = Self.randomExpression(over: random.shuffled(numbers), using: &random)
            guard let value = try? expression.evaluate(), value.isInteger, (1...maxTarget).contains(value.numerator)
            else { continue }
            return problem(numbers: numbers, target: value.numerator, solution: expression)
        }
        throw TaskError.notEnoughProblems(task: name, split: "solvable", requested: 1, found: 0)
    }

    func problem(numbers: [Int], target: Int, solution: ArithmeticExpression) -> Problem {
        let list = numbers.map(String.init).joined(separator: ", ")
        let rule = verifier.useEachNumberExactlyOnce ? "each exactly once" : "each at most once"
        let question = "Using the numbers \(list) (\(rule)) and + - * / ( ), make \(target)."
        let key = "\(numbers.sorted().map(String.init).joined(separator: ","))->\(target)"
        return Problem(key: key, barePrompt: question, question: question, answer: solution.description,
                       working: "\(solution)=\(target)",
                       columns: ["numbers": .array(numbers.map { .int($0) }), "target": .int(target)])
    }

    /// A random binary tree over `numbers` in this order, with random operators.
    static func randomExpression(over numbers: [Int], using random: inout SeededRandom) -> ArithmeticExpression {
        guard numbers.count > 1 else { return .number(Rational(numbers[0])) }
        let split = random.int(in: 1...(numbers.count - 1))
        let op = random.element(of: ArithmeticExpression.Operator.allCases)
        let left = randomExpression(over: Array(numbers[..<split]), using: &random)
        let right = randomExpression(over: Array(numbers[split...]), using: &random)
        return .binary(op, left, right)
    }

    /// Correct when the completion's expression (see `CountdownVerifier.expression(in:)`) passes the verifier
    /// with the row's `numbers` and `target`; nil when those columns are missing or not integers.
    public var answerVerifier: Verifier { Verifiers.countdown(useEachNumberExactlyOnce: verifier.useEachNumberExactlyOnce) }

    /// The `numbers` (a list of integers) and `target` (an integer) columns of a row.
    public static func numbersAndTarget(_ columns: [String: JSONValue]) -> (numbers: [Int], target: Int)? {
        guard let items = columns["numbers"]?.arrayValue, let target = columns["target"]?.intValue else { return nil }
        let numbers = items.compactMap(\.intValue)
        return numbers.count == items.count ? (numbers, target) : nil
    }
}
