/// A parsed arithmetic expression: numbers, + - * /, unary minus and parentheses.
///
/// Built only by `ExpressionParser` (no evaluation of arbitrary text) and evaluated exactly with `Rational`.
public indirect enum ArithmeticExpression: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"

        func apply(_ a: Rational, _ b: Rational) throws -> Rational {
            switch self {
            case .add: try a.adding(b)
            case .subtract: try a.subtracting(b)
            case .multiply: try a.multiplied(by: b)
            case .divide: try a.divided(by: b)
            }
        }

        /// Binding strength: * and / bind tighter than + and -.
        var precedence: Int { self == .add || self == .subtract ? 1 : 2 }
    }

    case number(Rational)
    case negate(ArithmeticExpression)
    case binary(Operator, ArithmeticExpression, ArithmeticExpression)

    /// The exact value; throws `TaskError.divisionByZero` or `.overflow`.
    public func evaluate() throws -> Rational {
        switch self {
        case let .number(value): value
        case let .negate(operand): try operand.evaluate().negated()
        case let .binary(op, left, right): try op.apply(left.evaluate(), right.evaluate())
        }
    }

    /// The number literals in reading order (for countdown's "each number once" check).
    public var literals: [Rational] {
        switch self {
        case let .number(value): [value]
        case let .negate(operand): operand.literals
        case let .binary(_, left, right): left.literals + right.literals
        }
    }

    /// Fully parenthesised only where needed: "(3+5)*2", "8-(2-1)".
    public var description: String { rendered(parentPrecedence: 0, isRightOperand: false) }

    private func rendered(parentPrecedence: Int, isRightOperand: Bool) -> String {
        switch self {
        case let .number(value):
            return value.isInteger ? "\(value.numerator)" : "(\(value))"
        case let .negate(operand):
            return "-" + operand.rendered(parentPrecedence: 3, isRightOperand: false)
        case let .binary(op, left, right):
            let text = left.rendered(parentPrecedence: op.precedence, isRightOperand: false) + op.rawValue
                + right.rendered(parentPrecedence: op.precedence, isRightOperand: true)
            // a-(b+c) and a/(b*c) need their parentheses; a+(b+c) and a*(b*c) do not, but keeping
            // them for every right operand of equal precedence is simpler and still exact.
            let needsParentheses = op.precedence < parentPrecedence || (op.precedence == parentPrecedence && isRightOperand)
            return needsParentheses ? "(\(text))" : text
        }
    }
}
