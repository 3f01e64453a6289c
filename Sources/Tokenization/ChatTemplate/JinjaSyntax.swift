/// The parsed form of a template: statements (`JinjaNode`) holding expressions (`JinjaExpression`),
/// each with the source line it came from, for error messages.

/// An expression inside `{{ }}` or a statement.
struct JinjaExpression: Sendable {
    indirect enum Kind: Sendable {
        case literal(JinjaValue)
        case name(String)
        case list([JinjaExpression])  // also tuples: `(a, b)`, `for k, v in ...`
        case dict([(key: JinjaExpression, value: JinjaExpression)])
        case attribute(JinjaExpression, String)  // a.b
        case index(JinjaExpression, JinjaExpression)  // a[b]
        case slice(JinjaExpression, start: JinjaExpression?, stop: JinjaExpression?, step: JinjaExpression?)
        case call(JinjaExpression, JinjaCallArguments)
        case filter(JinjaExpression, name: String, JinjaCallArguments)  // a | f(...)
        case test(JinjaExpression, name: String, JinjaCallArguments, negated: Bool)  // a is [not] t(...)
        case not(JinjaExpression)
        case negate(JinjaExpression)  // -a
        // Chains of one precedence level, kept flat and evaluated left to right, so `a ~ b ~ c ~ ...` does not
        // nest (as Jinja's Concat node does); `and`/`or` short-circuit and yield the deciding operand.
        case binary(JinjaExpression, [(JinjaBinaryOperator, JinjaExpression)])
        case and([JinjaExpression])
        case or([JinjaExpression])
        case compare(JinjaExpression, [(JinjaComparison, JinjaExpression)])  // chained: a < b < c
        case conditional(then: JinjaExpression, condition: JinjaExpression, otherwise: JinjaExpression?)
    }

    let kind: Kind
    let line: Int
    /// The levels of nesting from this node down; the parser bounds it so evaluation cannot exhaust the stack.
    let depth: Int

    init(kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
        depth = 1 + (kind.children.map(\.depth).max() ?? 0)
    }
}

extension JinjaExpression.Kind {
    /// The expressions directly inside this one.
    var children: [JinjaExpression] {
        switch self {
        case .literal, .name: return []
        case .list(let items): return items
        case .dict(let pairs): return pairs.flatMap { [$0.key, $0.value] }
        case .attribute(let base, _): return [base]
        case .index(let base, let index): return [base, index]
        case .slice(let base, let start, let stop, let step): return [base] + [start, stop, step].compactMap { $0 }
        case .call(let callee, let arguments): return [callee] + arguments.all
        case .filter(let base, _, let arguments), .test(let base, _, let arguments, _): return [base] + arguments.all
        case .not(let operand), .negate(let operand): return [operand]
        case .binary(let first, let rest): return [first] + rest.map(\.1)
        case .and(let operands), .or(let operands): return operands
        case .compare(let first, let operations): return [first] + operations.map(\.1)
        case .conditional(let then, let condition, let otherwise): return [then, condition] + [otherwise].compactMap { $0 }
        }
    }
}

/// The unevaluated arguments of a call, filter or test.
struct JinjaCallArguments: Sendable {
    var positional: [JinjaExpression] = []
    var keyword: [(name: String, value: JinjaExpression)] = []
    var spread: JinjaExpression?  // f(*items)
    var keywordSpread: JinjaExpression?  // f(**mapping)

    var all: [JinjaExpression] { positional + keyword.map(\.value) + [spread, keywordSpread].compactMap { $0 } }
}

enum JinjaBinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    case concat = "~"
}

enum JinjaComparison: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

/// What `{% set %}` and `{% for %}` assign to.
enum JinjaTarget: Sendable {
    case name(String)
    case namespaceAttribute(namespace: String, attribute: String)  // {% set ns.x = ... %}
    case tuple([String])  // {% for key, value in ... %}
}

/// A statement or piece of output.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpression)
    case ifChain(branches: [(condition: JinjaExpression, body: [JinjaNode])], otherwise: [JinjaNode])
    case forLoop(JinjaForLoop)
    case set(JinjaTarget, JinjaExpression, line: Int)
    case setBlock(JinjaTarget, body: [JinjaNode], line: Int)  // {% set x %}...{% endset %}
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    case macro(JinjaMacro)
}

/// `{% macro name(a, b=default) %}body{% endmacro %}`: a function whose call renders the body.
struct JinjaMacro: Sendable {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaNode]
    /// Whether the body reads `varargs` / `kwargs`; only then may a call pass extra arguments, as in Jinja.
    let takesVarargs: Bool
    let takesKwargs: Bool
    let line: Int
}

struct JinjaForLoop: Sendable {
    let target: JinjaTarget
    let iterable: JinjaExpression
    let filter: JinjaExpression?  // {% for x in xs if cond %}
    let body: [JinjaNode]
    let otherwise: [JinjaNode]  // {% else %}: rendered when nothing was iterated
    let line: Int
}
