/// Integer arithmetic with operands of a fixed number of digits: "123+456=" -> "579".
///
/// Operands are drawn uniformly from the `digits`-digit numbers (100...999 for 3 digits; 0...9 for 1), the
/// operation uniformly from `operations`. Results of subtraction may be negative ("12-47=" -> "-35").
/// The default, 3-digit addition, is the task the project trains on first.
public struct ArithmeticTask: TaskGenerator {
    public enum Operation: String, Sendable, Hashable, CaseIterable {
        case add = "+", subtract = "-", multiply = "*"

        /// "+", "-", "*"; also "x" and "×" for multiplication.
        public init?(symbol: String) {
            switch symbol {
            case "+": self = .add
            case "-": self = .subtract
            case "*", "x", "×": self = .multiply
            default: return nil
            }
        }

        func apply(_ a: Int, _ b: Int) -> Int {
            switch self {
            case .add: a + b
            case .subtract: a - b
            case .multiply: a * b
            }
        }
    }

    public static let name = "arithmetic"
    public var name: String { Self.name }
    public let digits: Int
    public let operations: [Operation]

    /// Up to 9 digits, so every product fits in `Int`.
    public init(digits: Int = 3, operations: [Operation] = [.add]) throws {
        guard (1...9).contains(digits) else {
            throw TaskError.invalidOption(task: Self.name, option: "digits", expected: "1...9", actual: "\(digits)")
        }
        guard !operations.isEmpty else {
            throw TaskError.invalidOption(task: Self.name, option: "operations", expected: "at least one of + - *",
                                          actual: "none")
        }
        self.digits = digits
        self.operations = operations
    }

    /// The operands' range: all `digits`-digit numbers.
    public var operandRange: ClosedRange<Int> {
        let top = (0..<digits).reduce(1) { value, _ in value * 10 }
        return (digits == 1 ? 0 : top / 10)...(top - 1)
    }

    public func problem(using random: inout SeededRandom) -> Problem {
        let a = random.int(in: operandRange), b = random.int(in: operandRange)
        let operation = random.element(of: operations)
        let equation = "\(a)\(operation.rawValue)\(b)"
        let result = operation.apply(a, b)
        let working = operation == .add && a >= 0 && b >= 0 ? Self.columnAddition(a, b) : "\(equation)=\(result)"
        return Problem(key: equation, barePrompt: equation + "=", question: "What is \(equation)?",
                       answer: "\(result)", working: working)
    }

    /// Addition worked in columns from the right, with carries: 687+932 -> "7+2=9, 8+3=11, 6+9+1=16".
    /// Each step is an equation (EquationStepsReward scores them); the answer's digits are the
    /// last step's sum followed by the other steps' last digits, right to left.
    static func columnAddition(_ a: Int, _ b: Int) -> String {
        var (x, y, carry) = (a, b, 0)
        var steps: [String] = []
        repeat {
            let (p, q) = (x % 10, y % 10)
            let sum = p + q + carry
            steps.append(carry > 0 ? "\(p)+\(q)+\(carry)=\(sum)" : "\(p)+\(q)=\(sum)")
            carry = sum / 10
            x /= 10
            y /= 10
        } while x > 0 || y > 0
        return steps.joined(separator: ", ")
    }

    /// The completion's final answer equals the row's `answer` exactly.
    public var answerVerifier: Verifier { Verifiers.mathAnswer() }
}
