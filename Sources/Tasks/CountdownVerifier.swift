/// Checks a countdown answer: an expression over the given numbers, each used at most once (or exactly once),
/// with + - * / and parentheses, equal to the target. The expression is parsed by `ExpressionParser` (nothing is
/// evaluated as code) and evaluated exactly, so intermediate fractions are fine when exact: (7/2)*4 = 14.
///
/// As in TinyZero, the answer must be the expression alone: "(3+5)*2", not "(3+5)*2 = 16".
public struct CountdownVerifier: Sendable {
    public enum Verdict: Sendable, Equatable {
        case correct
        /// A valid expression over allowed numbers with another value.
        case wrongValue(Rational)
        /// The expression's numbers are not the given ones (a number not given, used too often, or, with
        /// exactly-once, one left unused).
        case wrongNumbers(used: [Rational])
        /// Not an expression, or it divides by zero or overflows.
        case invalid(TaskError)
    }

    public var useEachNumberExactlyOnce: Bool
    public var parser = ExpressionParser()

    public init(useEachNumberExactlyOnce: Bool = false) {
        self.useEachNumberExactlyOnce = useEachNumberExactlyOnce
    }

    /// The expression in a completion: the last <answer>...</answer>, else the whole text.
    public static func expression(in completion: String) -> String {
        (AnswerExtractor.tagContent("answer", in: completion) ?? completion).trimmingWhitespace()
    }

    /// Checks the expression in a completion (see `expression(in:)`).
    public func check(completion: String, numbers: [Int], target: Int) -> Verdict {
        check(expression: Self.expression(in: completion), numbers: numbers, target: target)
    }

    public func check(expression text: String, numbers: [Int], target: Int) -> Verdict {
        let expression: ArithmeticExpression
        do {
            expression = try parser.parse(text)
        } catch {
            return .invalid(error as? TaskError ?? .invalidExpression(expression: text, position: 0, reason: "\(error)"))
        }
        let used = expression.literals
        guard usesAllowedNumbers(used, numbers) else { return .wrongNumbers(used: used) }
        do {
            let value = try expression.evaluate()
            return value == Rational(target) ? .correct : .wrongValue(value)
        } catch {
            return .invalid(error as? TaskError ?? .overflow(operation: text))
        }
    }

    /// Whether `used` is a sub-multiset of `numbers` (the same multiset with exactly-once).
    private func usesAllowedNumbers(_ used: [Rational], _ numbers: [Int]) -> Bool {
        var available: [Rational: Int] = [:]
        for n in numbers { available[Rational(n), default: 0] += 1 }
        for n in used {
            guard let count = available[n], count > 0 else { return false }
            available[n] = count - 1
        }
        return !useEachNumberExactlyOnce || available.values.allSatisfy { $0 == 0 }
    }
}
