import Synchronization

/// Runs a parsed template against a context and collects the output.
///
/// Scoping follows Jinja: `{% set %}` writes to the innermost scope; each iteration of a `for` loop gets a
/// fresh scope (so assignments inside a loop never leak out, which is why templates use `namespace`);
/// `if` blocks share the enclosing scope.
struct JinjaInterpreter {
    private var scopes: [[String: JinjaValue]]
    private var output = ""
    private let depth: RecursionDepth

    /// How deep statements, expressions and macro calls are nested while rendering, shared with the
    /// interpreters of macro calls, so that no template (recursive macros included) can exhaust the stack.
    /// The limit leaves room for a 512 KB thread stack in a debug build (ChatTemplateTests checks it).
    private final class RecursionDepth: Sendable {
        private let current = Atomic<Int>(0)  // atomic only so macro functions (Sendable closures) can hold it
        static let limit = 160
        static let macroCallCost = 4  // a macro call's frames, in units of one statement or expression

        func enter(_ cost: Int = 1) throws {
            guard current.add(cost, ordering: .relaxed).newValue <= RecursionDepth.limit else {
                current.subtract(cost, ordering: .relaxed)
                throw JinjaValue.error("template recursion deeper than \(RecursionDepth.limit) levels (a recursive macro?)")
            }
        }

        func leave(_ cost: Int = 1) { current.subtract(cost, ordering: .relaxed) }
    }

    private enum Flow { case normal, breakLoop, continueLoop }

    static func render(_ nodes: [JinjaNode], context: [String: JinjaValue]) throws -> String {
        var interpreter = JinjaInterpreter(scopes: [context], depth: RecursionDepth())
        _ = try interpreter.execute(nodes)
        return interpreter.output
    }

    private init(scopes: [[String: JinjaValue]], depth: RecursionDepth) {
        self.scopes = scopes
        self.depth = depth
    }

    // MARK: - Statements

    private mutating func execute(_ nodes: [JinjaNode]) throws -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private mutating func execute(_ node: JinjaNode) throws -> Flow {
        try depth.enter()
        defer { depth.leave() }
        switch node {
        case .text(let text):
            output += text
        case .output(let expression):
            output += try evaluate(expression).pythonString
        case .ifChain(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition).isTruthy {
                return try execute(branch.body)
            }
            return try execute(otherwise)
        case .forLoop(let loop):
            try executeFor(loop)
        case .set(let target, let expression, let line):
            try assign(target, try evaluate(expression), line: line)
        case .setBlock(let target, let body, let line):
            let saved = output
            output = ""
            _ = try execute(body)
            let captured = output
            output = saved
            try assign(target, .string(captured), line: line)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .macro(let macro):
            defineMacro(macro)
        }
        return .normal
    }

    // MARK: - Macros

    /// Binds the macro's name to a function. Like Jinja, the body sees the top-level variables as they are
    /// when it is called, the variables of the loops around the definition, and its parameters.
    private mutating func defineMacro(_ macro: JinjaMacro) {
        let enclosing = scopes.dropFirst().reduce(into: [String: JinjaValue]()) { $0.merge($1) { _, inner in inner } }
        let depth = depth
        scopes[scopes.count - 1][macro.name] = .function(JinjaFunction(name: macro.name) { arguments in
            try depth.enter(RecursionDepth.macroCallCost)
            defer { depth.leave(RecursionDepth.macroCallCost) }
            return try JinjaInterpreter.call(macro, enclosing: enclosing, arguments, depth: depth)
        })
    }

    /// Renders the body with the arguments bound; defaults are evaluated in the macro's scope, so they can
    /// use earlier parameters (`b=a ~ '!'`).
    private static func call(_ macro: JinjaMacro, enclosing: [String: JinjaValue], _ arguments: JinjaArguments,
                             depth: RecursionDepth) throws -> JinjaValue {
        var interpreter = JinjaInterpreter(scopes: [arguments.topLevel, enclosing, try bind(macro, arguments)],
                                           depth: depth)
        for parameter in macro.parameters where interpreter.scopes[2][parameter.name] == nil {
            interpreter.scopes[2][parameter.name] = try parameter.defaultValue.map { try interpreter.evaluate($0) }
                ?? .undefinedName(parameter.name)
        }
        _ = try interpreter.execute(macro.body)
        return .string(interpreter.output)
    }

    /// The parameters given by a call, plus `varargs` and `kwargs` holding the extra arguments (allowed only
    /// when the body uses them).
    private static func bind(_ macro: JinjaMacro, _ arguments: JinjaArguments) throws -> [String: JinjaValue] {
        let names = macro.parameters.map(\.name)
        var bound = Dictionary(zip(names, arguments.positional)) { first, _ in first }
        let extraPositional = Array(arguments.positional.dropFirst(names.count))
        guard extraPositional.isEmpty || macro.takesVarargs else {
            throw JinjaValue.error("macro '\(macro.name)' takes not more than \(names.count) argument(s)")
        }
        var extraKeywords = JinjaObject()
        for (name, value) in arguments.keyword {
            if names.contains(name) {
                guard bound[name] == nil else {
                    throw JinjaValue.error("macro '\(macro.name)' got multiple values for argument '\(name)'")
                }
                bound[name] = value
            } else {
                guard macro.takesKwargs else {
                    throw JinjaValue.error("macro '\(macro.name)' takes no keyword argument '\(name)'")
                }
                extraKeywords[name] = value
            }
        }
        bound["varargs"] = .array(extraPositional)
        bound["kwargs"] = .object(extraKeywords)
        return bound
    }

    private mutating func executeFor(_ loop: JinjaForLoop) throws {
        var items = try located(loop.line) { try evaluate(loop.iterable).iterated() }
        if let filter = loop.filter {
            items = try items.filter { item in
                scopes.append(try bind(loop.target, item, line: loop.line))
                defer { scopes.removeLast() }
                return try evaluate(filter).isTruthy
            }
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise)
            return
        }
        for (index, item) in items.enumerated() {
            var scope = try bind(loop.target, item, line: loop.line)
            scope["loop"] = JinjaInterpreter.loopObject(index: index, items: items)
            scopes.append(scope)
            let flow = try execute(loop.body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }

    /// The `loop` variable: index (from 1), index0, revindex, revindex0, first, last, length, previtem,
    /// nextitem, depth, and `cycle(...)`.
    private static func loopObject(index: Int, items: [JinjaValue]) -> JinjaValue {
        let count = items.count
        var loop = JinjaObject()
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["revindex"] = .int(count - index)
        loop["revindex0"] = .int(count - index - 1)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == count - 1)
        loop["length"] = .int(count)
        loop["depth"] = .int(1)
        loop["depth0"] = .int(0)
        loop["previtem"] = index > 0 ? items[index - 1] : .undefined(why: "there is no previous item")
        loop["nextitem"] = index + 1 < count ? items[index + 1] : .undefined(why: "there is no next item")
        loop["cycle"] = .function(JinjaFunction(name: "cycle") { arguments in
            guard !arguments.positional.isEmpty else { throw JinjaValue.error("no items for cycling given") }
            return arguments.positional[index % arguments.positional.count]
        })
        return .object(loop)
    }

    /// The variables a loop target binds for one item: `x`, or `a, b` unpacking a pair.
    private func bind(_ target: JinjaTarget, _ value: JinjaValue, line: Int) throws -> [String: JinjaValue] {
        switch target {
        case .name(let name):
            return [name: value]
        case .tuple(let names):
            let parts = try located(line) { try value.iterated() }
            guard parts.count == names.count else {
                throw TokenizerError.template(
                    message: "cannot unpack \(parts.count) values into \(names.joined(separator: ", "))",
                    line: line)
            }
            return Dictionary(zip(names, parts)) { _, last in last }
        case .namespaceAttribute(let namespace, let attribute):
            throw TokenizerError.template(message: "cannot loop over '\(namespace).\(attribute)'", line: line)
        }
    }

    private mutating func assign(_ target: JinjaTarget, _ value: JinjaValue, line: Int) throws {
        switch target {
        case .namespaceAttribute(let name, let attribute):
            guard case .namespace(let namespace) = lookup(name) else {
                throw TokenizerError.template(
                    message: "cannot assign attribute '\(attribute)' on '\(name)', which is not a namespace()", line: line)
            }
            namespace[attribute] = value
        default:
            for (name, part) in try bind(target, value, line: line) { scopes[scopes.count - 1][name] = part }
        }
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return .undefinedName(name)
    }

    // MARK: - Expressions

    /// Runs `body`, giving any template error that has no line yet the line `line`.
    private func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw JinjaInterpreter.locate(error, line: line)
        }
    }

    /// Evaluates an expression, giving errors without a line the expression's line. The cases stay small
    /// (the work is in helpers) because this recursion is as deep as the expression and each frame counts.
    private func evaluate(_ expression: JinjaExpression) throws -> JinjaValue {
        try depth.enter()
        defer { depth.leave() }
        do {
            return try evaluateKind(expression)
        } catch {
            throw JinjaInterpreter.locate(error, line: expression.line)
        }
    }

    /// A template error without a line gets `line`; other errors pass unchanged.
    private static func locate(_ error: any Error, line: Int) -> any Error {
        guard case TokenizerError.template(let message, nil) = error else { return error }
        return TokenizerError.template(message: message, line: line)
    }

    /// Dispatches in two steps so the frame that stays on the stack while sub-expressions are evaluated
    /// holds only the bindings of one group of cases (debug builds reserve room for every case's bindings).
    private func evaluateKind(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .literal, .name, .list, .dict: return try evaluateValue(expression)
        case .attribute, .index, .slice: return try evaluateAccess(expression)
        case .call: return try evaluateCall(expression)
        case .filter, .test: return try evaluateFilterOrTest(expression)
        case .conditional: return try evaluateConditional(expression)
        default: return try evaluateOperator(expression)
        }
    }

    private func evaluateValue(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .literal(let value): return value
        case .name(let name): return lookup(name)
        case .list(let items): return .array(try items.map(evaluate))
        case .dict(let pairs): return try evaluateDict(pairs)
        default: throw JinjaValue.error("internal: \(expression.kind) is not a value expression")
        }
    }

    private func evaluateAccess(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .attribute(let base, let name): return try evaluate(base).attribute(name)
        case .index(let base, let index): return try evaluate(base).item(try evaluate(index))
        case .slice(let base, let start, let stop, let step): return try evaluateSlice(base, start, stop, step)
        default: throw JinjaValue.error("internal: \(expression.kind) is not an access expression")
        }
    }

    private func evaluateFilterOrTest(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .filter(let base, let name, let arguments):
            return try JinjaFilters.apply(name, try evaluate(base), try evaluate(arguments))
        case .test(let base, let name, let arguments, let negated):
            return .bool(try JinjaTestFunctions.apply(name, try evaluate(base), try evaluate(arguments)) != negated)
        default: throw JinjaValue.error("internal: \(expression.kind) is not a filter or test")
        }
    }

    private func evaluateOperator(_ expression: JinjaExpression) throws -> JinjaValue {
        switch expression.kind {
        case .not(let operand): return .bool(!(try evaluate(operand).isTruthy))
        case .negate(let operand): return try evaluate(operand).negated()
        case .binary(let first, let rest): return try evaluateChain(first, rest)
        case .and(let operands): return try evaluateShortCircuit(operands, stopAt: false)
        case .or(let operands): return try evaluateShortCircuit(operands, stopAt: true)
        case .compare(let first, let operations): return try evaluateComparison(first, operations)
        default: throw JinjaValue.error("internal: \(expression.kind) is not an operator expression")
        }
    }

    private func evaluateDict(_ pairs: [(key: JinjaExpression, value: JinjaExpression)]) throws -> JinjaValue {
        var object = JinjaObject()
        for pair in pairs {
            guard case .string(let key) = try evaluate(pair.key) else {
                throw JinjaValue.error("unsupported dict key: only string keys are supported")
            }
            object[key] = try evaluate(pair.value)
        }
        return .object(object)
    }

    private func evaluateSlice(_ base: JinjaExpression, _ start: JinjaExpression?, _ stop: JinjaExpression?,
                               _ step: JinjaExpression?) throws -> JinjaValue {
        try evaluate(base).slice(start: try start.map(evaluate), stop: try stop.map(evaluate), step: try step.map(evaluate))
    }

    private func evaluateCall(_ expression: JinjaExpression) throws -> JinjaValue {
        guard case .call(let callee, let arguments) = expression.kind else {
            throw JinjaValue.error("internal: \(expression.kind) is not a call")
        }
        let function = try evaluate(callee)
        guard case .function(let f) = function else {
            try function.requireDefined()
            throw JinjaValue.error("'\(function.typeName)' object is not callable")
        }
        var values = try evaluate(arguments)
        values.topLevel = scopes[0]
        return try f(values)
    }

    private func evaluateChain(_ first: JinjaExpression, _ rest: [(JinjaBinaryOperator, JinjaExpression)]) throws
        -> JinjaValue
    {
        var value = try evaluate(first)
        for (op, operand) in rest { value = try value.binary(op, try evaluate(operand)) }
        return value
    }

    /// `a and b and c` stops at the first falsy operand, `a or b or c` at the first truthy one; either yields
    /// the operand it stopped at (or the last), as Python does.
    private func evaluateShortCircuit(_ operands: [JinjaExpression], stopAt truthiness: Bool) throws -> JinjaValue {
        var value = JinjaValue.none
        for operand in operands {
            value = try evaluate(operand)
            if value.isTruthy == truthiness { return value }
        }
        return value
    }

    /// `a < b <= c` means `a < b and b <= c`, evaluating each operand once.
    private func evaluateComparison(_ first: JinjaExpression, _ operations: [(JinjaComparison, JinjaExpression)])
        throws -> JinjaValue
    {
        var left = try evaluate(first)
        for (comparison, operand) in operations {
            let right = try evaluate(operand)
            guard try left.compare(comparison, right) else { return .bool(false) }
            left = right
        }
        return .bool(true)
    }

    private func evaluateConditional(_ expression: JinjaExpression) throws -> JinjaValue {
        guard case .conditional(let then, let condition, let otherwise) = expression.kind else {
            throw JinjaValue.error("internal: \(expression.kind) is not a conditional")
        }
        if try evaluate(condition).isTruthy { return try evaluate(then) }
        return try otherwise.map(evaluate) ?? .undefined(
            why: "the inline if-expression on line \(expression.line) evaluated to false and no else section was defined")
    }

    private func evaluate(_ arguments: JinjaCallArguments) throws -> JinjaArguments {
        var values = JinjaArguments(try arguments.positional.map(evaluate),
                                    keyword: try arguments.keyword.map { ($0.name, try evaluate($0.value)) })
        if let spread = arguments.spread { values.positional += try evaluate(spread).iterated() }
        if let keywordSpread = arguments.keywordSpread {
            guard case .object(let mapping) = try evaluate(keywordSpread) else {
                throw JinjaValue.error("argument after ** must be a mapping")
            }
            values.keyword += mapping.pairs.map { ($0.key, $0.value) }
        }
        return values
    }
}
