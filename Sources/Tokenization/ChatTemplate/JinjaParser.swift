/// Builds the syntax tree from tokens, following the grammar and operator precedence of Jinja's parser
/// (jinja2/parser.py), from loosest to tightest:
/// `x if c else y` < `or` < `and` < `not` < comparisons and `in` < `+ -` < `~` < `* / // %` < `**`
/// < unary `- +` < primary with `.attr`, `[sub]`, `(call)`, then `| filter` and `is test`.
///
/// Unknown tags, filters and tests are reported here, with their line, rather than when rendering.
struct JinjaParser {
    private let tokens: [JinjaToken]
    private var index = 0
    private var loopDepth = 0
    /// Open blocks and nested sub-expressions being parsed, bounded (with expression depth) so that neither
    /// parsing nor rendering can run out of stack on a hostile template.
    private var blockDepth = 0
    private var expressionNesting = 0
    static let maxNesting = 64
    static let maxExpressionDepth = 64

    /// Tags Jinja has that this interpreter does not; named in the error so the gap is obvious.
    private static let unsupportedTags: Set<String> = [
        "call", "filter", "include", "import", "from", "extends", "block", "with", "autoescape", "do",
        "trans",
    ]

    static func parse(_ source: String) throws -> [JinjaNode] {
        var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
        return try parser.parseBody(until: [], opener: nil).nodes
    }

    private init(tokens: [JinjaToken]) { self.tokens = tokens }

    // MARK: - Token stream

    private var current: JinjaToken { tokens[index] }

    private func peek(_ offset: Int) -> JinjaToken { tokens[min(index + offset, tokens.count - 1)] }

    private mutating func next() { if index < tokens.count - 1 { index += 1 } }

    private func error(_ message: String, line: Int? = nil) -> TokenizerError {
        .template(message: message, line: line ?? current.line)
    }

    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    private func isName(_ name: String) -> Bool { current.kind == .name(name) }

    private mutating func skipSymbol(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        next()
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        next()
        return true
    }

    private mutating func expectSymbol(_ symbol: String) throws {
        guard skipSymbol(symbol) else { throw error("expected '\(symbol)', got \(current.description)") }
    }

    private mutating func expectName() throws -> String {
        guard case .name(let name) = current.kind else { throw error("expected a name, got \(current.description)") }
        next()
        return name
    }

    private mutating func expectStatementEnd(_ tag: String) throws {
        guard current.kind == .statementEnd else {
            throw error("expected '%}' to close '\(tag)', got \(current.description)")
        }
        next()
    }

    // MARK: - Statements

    /// Nodes up to one of `endTags` (consumed up to and including the tag name), or to the end of the template
    /// when `endTags` is empty.
    private mutating func parseBody(until endTags: Set<String>, opener: (tag: String, line: Int)?)
        throws -> (nodes: [JinjaNode], endTag: String)
    {
        blockDepth += 1
        defer { blockDepth -= 1 }
        guard blockDepth <= JinjaParser.maxNesting else {
            throw error("blocks nested more than \(JinjaParser.maxNesting) deep")
        }
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                guard let opener else { return (nodes, "") }
                let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                throw error("unexpected end of template: '\(opener.tag)' opened on line \(opener.line) needs \(expected)",
                            line: opener.line)
            case .text(let text):
                nodes.append(.text(text))
                next()
            case .outputBegin:
                next()
                let expression = try parseTuple()
                guard current.kind == .outputEnd else { throw error("expected '}}', got \(current.description)") }
                next()
                nodes.append(.output(expression))
            case .statementBegin:
                guard case .name(let tag) = peek(1).kind else {
                    throw error("expected a statement name after '{%', got \(peek(1).description)")
                }
                next()
                next()
                if endTags.contains(tag) { return (nodes, tag) }
                nodes += try parseStatement(tag, line: token.line)
            default:
                throw error("unexpected \(token.description)")
            }
        }
    }

    private mutating func parseStatement(_ tag: String, line: Int) throws -> [JinjaNode] {
        switch tag {
        case "if": return [try parseIf(line: line)]
        case "for": return [try parseFor(line: line)]
        case "set": return [try parseSet(line: line)]
        case "macro": return [try parseMacro(line: line)]
        case "break", "continue":
            guard loopDepth > 0 else { throw error("'\(tag)' outside of a for loop", line: line) }
            try expectStatementEnd(tag)
            return [tag == "break" ? .breakLoop(line: line) : .continueLoop(line: line)]
        case "generation":
            // transformers' assistant-mask marker: renders its body unchanged.
            try expectStatementEnd(tag)
            let body = try parseBody(until: ["endgeneration"], opener: (tag, line)).nodes
            try expectStatementEnd("endgeneration")
            return body
        default:
            if JinjaParser.unsupportedTags.contains(tag) {
                throw error("unsupported tag '\(tag)' (this Jinja subset has no \(tag) blocks)", line: line)
            }
            throw error("unknown or unexpected tag '\(tag)'", line: line)
        }
    }

    private mutating func parseIf(line: Int) throws -> JinjaNode {
        var branches: [(condition: JinjaExpression, body: [JinjaNode])] = []
        var condition = try parseTuple(withCondexpr: false)
        while true {
            try expectStatementEnd("if")
            let (body, endTag) = try parseBody(until: ["elif", "else", "endif"], opener: ("if", line))
            branches.append((condition, body))
            switch endTag {
            case "elif":
                condition = try parseTuple(withCondexpr: false)
            case "else":
                try expectStatementEnd("else")
                let otherwise = try parseBody(until: ["endif"], opener: ("if", line)).nodes
                try expectStatementEnd("endif")
                return .ifChain(branches: branches, otherwise: otherwise)
            default:
                try expectStatementEnd("endif")
                return .ifChain(branches: branches, otherwise: [])
            }
        }
    }

    private mutating func parseFor(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(allowNamespace: false)
        guard skipName("in") else { throw error("expected 'in' in for loop, got \(current.description)") }
        let iterable = try parseTuple(withCondexpr: false, extraEnd: ["recursive"])
        var filter: JinjaExpression?
        if skipName("if") { filter = try parseExpression() }
        if isName("recursive") { throw error("unsupported recursive for loop", line: line) }
        try expectStatementEnd("for")
        loopDepth += 1
        let (body, endTag) = try parseBody(until: ["endfor", "else"], opener: ("for", line))
        loopDepth -= 1
        var otherwise: [JinjaNode] = []
        if endTag == "else" {
            try expectStatementEnd("else")
            otherwise = try parseBody(until: ["endfor"], opener: ("for", line)).nodes
        }
        try expectStatementEnd("endfor")
        return .forLoop(JinjaForLoop(target: target, iterable: iterable, filter: filter, body: body,
                                     otherwise: otherwise, line: line))
    }

    private mutating func parseSet(line: Int) throws -> JinjaNode {
        let target = try parseAssignTarget(allowNamespace: true)
        if skipSymbol("=") {
            let value = try parseTuple()
            try expectStatementEnd("set")
            return .set(target, value, line: line)
        }
        if isSymbol("|") { throw error("unsupported filter on a block set", line: line) }
        try expectStatementEnd("set")
        let body = try parseBody(until: ["endset"], opener: ("set", line)).nodes
        try expectStatementEnd("endset")
        return .setBlock(target, body: body, line: line)
    }

    private mutating func parseMacro(line: Int) throws -> JinjaNode {
        let name = try expectName()
        try expectSymbol("(")
        var parameters: [(name: String, defaultValue: JinjaExpression?)] = []
        while !isSymbol(")") {
            if !parameters.isEmpty { try expectSymbol(",") }
            if isSymbol(")") { break }
            let parameter = try expectName()
            let defaultValue = skipSymbol("=") ? try parseExpression() : nil
            if defaultValue == nil, parameters.last?.defaultValue != nil {
                throw error("macro '\(name)': parameter '\(parameter)' without a default follows one with a default")
            }
            parameters.append((parameter, defaultValue))
        }
        next()
        try expectStatementEnd("macro")
        let bodyStart = index
        let savedLoopDepth = loopDepth
        loopDepth = 0  // `break` in a macro needs a loop inside the macro
        let body = try parseBody(until: ["endmacro"], opener: ("macro", line)).nodes
        loopDepth = savedLoopDepth
        let bodyNames = Set(tokens[bodyStart..<index].compactMap { if case .name(let n) = $0.kind { n } else { nil } })
        try expectStatementEnd("endmacro")
        return .macro(JinjaMacro(name: name, parameters: parameters, body: body,
                                 takesVarargs: bodyNames.contains("varargs"), takesKwargs: bodyNames.contains("kwargs"),
                                 line: line))
    }

    /// `name`, `ns.attribute` (only for set), or `a, b` (also in parentheses).
    private mutating func parseAssignTarget(allowNamespace: Bool) throws -> JinjaTarget {
        let parenthesized = skipSymbol("(")
        let first = try expectName()
        if allowNamespace && !parenthesized && skipSymbol(".") {
            return .namespaceAttribute(namespace: first, attribute: try expectName())
        }
        var names = [first]
        while skipSymbol(",") {
            guard case .name = current.kind else { break }  // a trailing comma
            names.append(try expectName())
        }
        if parenthesized { try expectSymbol(")") }
        return names.count == 1 && !parenthesized ? .name(first) : .tuple(names)
    }

    // MARK: - Expressions

    /// Expressions separated by commas form a tuple (`{{ a, b }}`, `{% set x = 1, 2 %}`); one alone is itself.
    private mutating func parseTuple(withCondexpr: Bool = true, extraEnd: Set<String> = [],
                                     explicitParentheses: Bool = false) throws -> JinjaExpression {
        let line = current.line
        var items: [JinjaExpression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectSymbol(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(try parseExpression(withCondexpr: withCondexpr))
            if isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses { throw error("expected an expression, got \(current.description)") }
        }
        return JinjaExpression(kind: .list(items), line: line)
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .outputEnd, .statementEnd, .symbol(")"): return true
        case .name(let name): return extraEnd.contains(name)
        default: return false
        }
    }

    private mutating func parseExpression(withCondexpr: Bool = true) throws -> JinjaExpression {
        let expression = withCondexpr ? try parseConditional() : try parseOr()
        guard expression.depth <= JinjaParser.maxExpressionDepth else {
            throw error("expression nested more than \(JinjaParser.maxExpressionDepth) levels deep", line: expression.line)
        }
        return expression
    }

    /// Counts one level of recursive descent (parentheses, brackets, `not`, unary minus).
    private mutating func nested<T>(_ body: (inout JinjaParser) throws -> T) throws -> T {
        expressionNesting += 1
        defer { expressionNesting -= 1 }
        guard expressionNesting <= JinjaParser.maxNesting else {
            throw error("expression nested more than \(JinjaParser.maxNesting) levels deep")
        }
        return try body(&self)
    }

    private mutating func parseConditional() throws -> JinjaExpression {
        var expression = try parseOr()
        while isName("if") {
            let line = current.line
            next()
            let condition = try parseOr()
            let otherwise = skipName("else") ? try parseConditional() : nil
            expression = JinjaExpression(kind: .conditional(then: expression, condition: condition, otherwise: otherwise),
                                         line: line)
        }
        return expression
    }

    private mutating func parseOr() throws -> JinjaExpression {
        let line = current.line
        var operands = [try parseAnd()]
        while skipName("or") { operands.append(try parseAnd()) }
        return operands.count == 1 ? operands[0] : JinjaExpression(kind: .or(operands), line: line)
    }

    private mutating func parseAnd() throws -> JinjaExpression {
        let line = current.line
        var operands = [try parseNot()]
        while skipName("and") { operands.append(try parseNot()) }
        return operands.count == 1 ? operands[0] : JinjaExpression(kind: .and(operands), line: line)
    }

    private mutating func parseNot() throws -> JinjaExpression {
        guard isName("not") else { return try parseCompare() }
        let line = current.line
        next()
        return JinjaExpression(kind: .not(try nested { try $0.parseNot() }), line: line)
    }

    private mutating func parseCompare() throws -> JinjaExpression {
        let line = current.line
        let first = try parseMath1()
        var operations: [(JinjaComparison, JinjaExpression)] = []
        while true {
            if case .symbol(let s) = current.kind, let comparison = JinjaComparison(rawValue: s),
               comparison != .contains, comparison != .notContains
            {
                next()
                operations.append((comparison, try parseMath1()))
            } else if skipName("in") {
                operations.append((.contains, try parseMath1()))
            } else if isName("not") && peek(1).kind == .name("in") {
                next()
                next()
                operations.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : JinjaExpression(kind: .compare(first, operations), line: line)
    }

    /// One precedence level of left-associative binary operators, as a flat chain.
    private mutating func parseBinary(_ operators: [JinjaBinaryOperator],
                                      operand: (inout JinjaParser) throws -> JinjaExpression) throws -> JinjaExpression {
        let line = current.line
        let first = try operand(&self)
        var rest: [(JinjaBinaryOperator, JinjaExpression)] = []
        while case .symbol(let s) = current.kind, let op = JinjaBinaryOperator(rawValue: s), operators.contains(op) {
            next()
            rest.append((op, try operand(&self)))
        }
        return rest.isEmpty ? first : JinjaExpression(kind: .binary(first, rest), line: line)
    }

    private mutating func parseMath1() throws -> JinjaExpression {
        try parseBinary([.add, .subtract]) { try $0.parseConcat() }
    }

    private mutating func parseConcat() throws -> JinjaExpression {
        try parseBinary([.concat]) { try $0.parseMath2() }
    }

    private mutating func parseMath2() throws -> JinjaExpression {
        try parseBinary([.multiply, .divide, .floorDivide, .modulo]) { try $0.parsePow() }
    }

    private mutating func parsePow() throws -> JinjaExpression {
        try parseBinary([.power]) { try $0.parseUnary() }
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpression {
        try nested { try $0.parseUnaryLevel(withFilter: withFilter) }
    }

    private mutating func parseUnaryLevel(withFilter: Bool) throws -> JinjaExpression {
        let line = current.line
        var expression: JinjaExpression
        if skipSymbol("-") {
            expression = JinjaExpression(kind: .negate(try parseUnary(withFilter: false)), line: line)
        } else if skipSymbol("+") {
            expression = try parseUnary(withFilter: false)
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        return withFilter ? try parseFilterExpression(expression) : expression
    }

    private mutating func parsePrimary() throws -> JinjaExpression {
        let token = current
        let line = token.line
        switch token.kind {
        case .name(let name):
            next()
            switch name {
            case "true", "True": return JinjaExpression(kind: .literal(.bool(true)), line: line)
            case "false", "False": return JinjaExpression(kind: .literal(.bool(false)), line: line)
            case "none", "None": return JinjaExpression(kind: .literal(.none), line: line)
            default: return JinjaExpression(kind: .name(name), line: line)
            }
        case .string(var text):
            next()
            while case .string(let more) = current.kind {  // adjacent literals join, as in Python
                text += more
                next()
            }
            return JinjaExpression(kind: .literal(.string(text)), line: line)
        case .integer(let value):
            next()
            return JinjaExpression(kind: .literal(.int(value)), line: line)
        case .float(let value):
            next()
            return JinjaExpression(kind: .literal(.double(value)), line: line)
        case .symbol("("):
            next()
            let expression = try parseTuple(explicitParentheses: true)
            try expectSymbol(")")
            return expression
        case .symbol("["):
            next()
            var items: [JinjaExpression] = []
            while !isSymbol("]") {
                if !items.isEmpty { try expectSymbol(",") }
                if isSymbol("]") { break }
                items.append(try parseExpression())
            }
            try expectSymbol("]")
            return JinjaExpression(kind: .list(items), line: line)
        case .symbol("{"):
            next()
            var pairs: [(key: JinjaExpression, value: JinjaExpression)] = []
            while !isSymbol("}") {
                if !pairs.isEmpty { try expectSymbol(",") }
                if isSymbol("}") { break }
                let key = try parseExpression()
                try expectSymbol(":")
                pairs.append((key, try parseExpression()))
            }
            try expectSymbol("}")
            return JinjaExpression(kind: .dict(pairs), line: line)
        default:
            throw error("unexpected \(token.description)")
        }
    }

    /// `.name`, `.0`, `[subscript]` and `(call)` after a primary.
    private mutating func parsePostfix(_ base: JinjaExpression) throws -> JinjaExpression {
        var expression = base
        while true {
            let line = current.line
            if skipSymbol(".") {
                switch current.kind {
                case .name(let name):
                    next()
                    expression = JinjaExpression(kind: .attribute(expression, name), line: line)
                case .integer(let i):
                    next()
                    expression = JinjaExpression(
                        kind: .index(expression, JinjaExpression(kind: .literal(.int(i)), line: line)), line: line)
                default:
                    throw error("expected an attribute name after '.', got \(current.description)")
                }
            } else if skipSymbol("[") {
                expression = try parseSubscript(expression, line: line)
            } else if skipSymbol("(") {
                expression = JinjaExpression(kind: .call(expression, try parseCallArguments()), line: line)
            } else {
                return expression
            }
        }
    }

    /// After `[`: an index `a[i]` or a slice `a[start:stop:step]`, up to and including `]`.
    private mutating func parseSubscript(_ base: JinjaExpression, line: Int) throws -> JinjaExpression {
        var parts: [JinjaExpression?] = []
        var isSlice = false
        var part: JinjaExpression?
        while true {
            if isSymbol(":") {
                guard parts.count < 2 else { throw error("a slice takes at most three parts") }
                next()
                isSlice = true
                parts.append(part)
                part = nil
            } else if isSymbol("]") {
                next()
                parts.append(part)
                break
            } else if part == nil {
                part = try parseExpression()
            } else {
                throw error("unsupported subscript: expected ':' or ']', got \(current.description)")
            }
        }
        if !isSlice {
            guard let index = parts[0] else { throw error("empty subscript") }
            return JinjaExpression(kind: .index(base, index), line: line)
        }
        return JinjaExpression(kind: .slice(base, start: parts[0], stop: parts[1], step: parts.count > 2 ? parts[2] : nil),
                               line: line)
    }

    /// After `(`: positional then keyword arguments, with `*items` and `**mapping` last, up to and including `)`.
    private mutating func parseCallArguments() throws -> JinjaCallArguments {
        var arguments = JinjaCallArguments()
        var first = true
        while !isSymbol(")") {
            if !first { try expectSymbol(",") }
            first = false
            if isSymbol(")") { break }
            if skipSymbol("**") {
                guard arguments.keywordSpread == nil else { throw error("a call takes one **mapping") }
                arguments.keywordSpread = try parseExpression()
            } else if skipSymbol("*") {
                guard arguments.spread == nil, arguments.keywordSpread == nil else {
                    throw error("a call takes one *items, before any **mapping")
                }
                arguments.spread = try parseExpression()
            } else if arguments.spread != nil || arguments.keywordSpread != nil {
                throw error("arguments after *items or **mapping are not supported")
            } else if case .name(let name) = current.kind, peek(1).kind == .symbol("=") {
                next()
                next()
                arguments.keyword.append((name, try parseExpression()))
            } else {
                guard arguments.keyword.isEmpty else { throw error("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        next()
        return arguments
    }

    /// `| filter(...)` and `is [not] test ...` after a unary expression.
    private mutating func parseFilterExpression(_ base: JinjaExpression) throws -> JinjaExpression {
        var expression = base
        while true {
            let line = current.line
            if skipSymbol("|") {
                let name = try expectDottedName()
                guard JinjaFilters.names.contains(name) else { throw error("unsupported filter '\(name)'", line: line) }
                let arguments = skipSymbol("(") ? try parseCallArguments() : JinjaCallArguments()
                expression = JinjaExpression(kind: .filter(expression, name: name, arguments), line: line)
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try expectDottedName()
                guard JinjaTestFunctions.names.contains(name) else { throw error("unsupported test '\(name)'", line: line) }
                var arguments = JinjaCallArguments()
                if skipSymbol("(") {
                    arguments = try parseCallArguments()
                } else if startsTestArgument {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                expression = JinjaExpression(kind: .test(expression, name: name, arguments, negated: negated), line: line)
            } else if skipSymbol("(") {
                expression = JinjaExpression(kind: .call(expression, try parseCallArguments()), line: line)
            } else {
                return expression
            }
        }
    }

    /// Whether a test is followed by one bare argument: `x is divisibleby 3`, `x is sameas none`.
    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let name): return !["else", "or", "and", "is"].contains(name)
        case .string, .integer, .float, .symbol("("), .symbol("["), .symbol("{"): return true
        default: return false
        }
    }

    private mutating func expectDottedName() throws -> String {
        var name = try expectName()
        while isSymbol("."), case .name(let more) = peek(1).kind {
            next()
            next()
            name += "." + more
        }
        return name
    }
}
