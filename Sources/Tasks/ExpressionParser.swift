/// A recursive-descent parser for arithmetic expressions, the only way text becomes an
/// `ArithmeticExpression` (nothing is ever evaluated as code).
///
///     expression := term (('+' | '-') term)*
///     term       := factor (('*' | '/') factor)*
///     factor     := '-' factor | number | '(' expression ')'
///     number     := digits ('.' digits)?
///
/// Whitespace is ignored; the Unicode signs `×`, `÷` and `−` are read as `*`, `/` and `-`. Inputs longer than `maxLength` characters or nested deeper than `maxDepth` are rejected, so a
/// hostile completion cannot exhaust the stack.
public struct ExpressionParser: Sendable {
    public var maxLength = 1_000
    public var maxDepth = 100

    public init() {}

    /// Parses the whole of `text`; throws `TaskError.invalidExpression` naming the position.
    public func parse(_ text: String) throws -> ArithmeticExpression {
        var cursor = Cursor(text: text, characters: Array(text), maxDepth: maxDepth)
        guard cursor.characters.count <= maxLength else {
            throw cursor.error(at: maxLength, "longer than \(maxLength) characters")
        }
        let expression = try cursor.expression(depth: 0)
        cursor.skipSpaces()
        guard cursor.position == cursor.characters.count else {
            throw cursor.error("unexpected '\(cursor.characters[cursor.position])'")
        }
        return expression
    }

    /// Parses and evaluates exactly.
    public func evaluate(_ text: String) throws -> Rational {
        try parse(text).evaluate()
    }
}

private struct Cursor {
    let text: String
    let characters: [Character]
    let maxDepth: Int
    var position = 0

    init(text: String, characters: [Character], maxDepth: Int) {
        self.text = text
        self.characters = characters
        self.maxDepth = maxDepth
    }

    func error(at position: Int? = nil, _ reason: String) -> TaskError {
        .invalidExpression(expression: text, position: position ?? self.position, reason: reason)
    }

    mutating func skipSpaces() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    /// The next operator among `accepted`, consumed; nil (nothing consumed) otherwise.
    mutating func nextOperator(_ accepted: [ArithmeticExpression.Operator]) -> ArithmeticExpression.Operator? {
        skipSpaces()
        guard position < characters.count, let op = Cursor.operator(characters[position]), accepted.contains(op)
        else { return nil }
        position += 1
        return op
    }

    static func `operator`(_ c: Character) -> ArithmeticExpression.Operator? {
        switch c {
        case "+": .add
        case "-", "−": .subtract
        case "*", "×": .multiply
        case "/", "÷": .divide
        default: nil
        }
    }

    mutating func expression(depth: Int) throws -> ArithmeticExpression {
        guard depth <= maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
        var left = try term(depth: depth)
        while let op = nextOperator([.add, .subtract]) { left = .binary(op, left, try term(depth: depth)) }
        return left
    }

    mutating func term(depth: Int) throws -> ArithmeticExpression {
        var left = try factor(depth: depth)
        while let op = nextOperator([.multiply, .divide]) { left = .binary(op, left, try factor(depth: depth)) }
        return left
    }

    mutating func factor(depth: Int) throws -> ArithmeticExpression {
        guard depth <= maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
        skipSpaces()
        guard position < characters.count else { throw error("expected a number or '(' but the text ended") }
        let c = characters[position]
        if Cursor.operator(c) == .subtract {
            position += 1
            return .negate(try factor(depth: depth + 1))
        }
        if c == "(" {
            position += 1
            let inner = try expression(depth: depth + 1)
            skipSpaces()
            guard position < characters.count, characters[position] == ")" else { throw error("expected ')'") }
            position += 1
            return inner
        }
        guard c.isASCII, c.isNumber || c == "." else { throw error("expected a number or '(', got '\(c)'") }
        return .number(try number())
    }

    mutating func number() throws -> Rational {
        let start = position
        while position < characters.count, characters[position].isASCII,
              characters[position].isNumber || characters[position] == "." {
            position += 1
        }
        let literal = String(characters[start..<position])
        guard literal.filter({ $0 == "." }).count <= 1, literal.contains(where: \.isNumber),
              let value = Rational(literal) else {
            throw error(at: start, "'\(literal)' is not a number that fits in 64-bit integers")
        }
        return value
    }
}
