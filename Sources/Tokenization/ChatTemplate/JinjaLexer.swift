/// Splits template source into tokens the way Jinja's lexer does with transformers' settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`):
///
/// - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` strip all whitespace after it;
///   `{%+` and `+%}` turn lstrip/trim off for that side.
/// - trim_blocks: the first newline after `%}` or `#}` is dropped.
/// - lstrip_blocks: spaces and tabs between the start of a line and `{%` or `{#` are dropped (not before `{{`).
/// - `\r\n` and `\r` become `\n`, and one trailing newline of the template is dropped.
///
/// Comments produce no tokens; `{% raw %}...{% endraw %}` produces one text token.
struct JinjaLexer {
    private let text: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var tokens: [JinjaToken] = []
    /// Whether the last thing consumed ended with a newline (Jinja's `line_starting`, for lstrip_blocks).
    private var lineStarting = true

    private enum TagKind { case output, statement, comment }

    static func tokenize(_ source: String) throws -> [JinjaToken] {
        var lexer = JinjaLexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(source: String) {
        var normalized = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if normalized.hasSuffix("\n") { normalized.removeLast() }
        text = Array(normalized.unicodeScalars)
    }

    private func error(_ message: String) -> TokenizerError { .template(message: message, line: line) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        pos + offset < text.count ? text[pos + offset] : nil
    }

    private func matches(_ literal: String, at index: Int) -> Bool {
        var i = index
        for scalar in literal.unicodeScalars {
            guard i < text.count, text[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    /// Moves past `count` scalars, counting the newlines passed.
    private mutating func advance(_ count: Int) {
        for i in pos..<min(pos + count, text.count) where text[i] == "\n" { line += 1 }
        pos = min(pos + count, text.count)
        lineStarting = pos > 0 && text[pos - 1] == "\n"
    }

    private mutating func skipWhitespace() {
        var n = 0
        while let c = peek(n), c.isPythonWhitespace { n += 1 }
        advance(n)
    }

    private mutating func run() throws {
        while pos < text.count {
            guard let (start, kind) = nextTag() else {
                emitText(text[pos...])
                advance(text.count - pos)
                break
            }
            let sign = start + 2 < text.count && (text[start + 2] == "-" || text[start + 2] == "+") ? text[start + 2] : nil
            let rawEnd = kind == .statement ? rawBlockBegin(at: start + 2 + (sign == nil ? 0 : 1)) : nil
            emitText(stripped(text[pos..<start], sign: sign, beforeOutput: kind == .output))
            advance(start - pos + 2 + (sign == nil ? 0 : 1))
            if let rawEnd {
                advance(rawEnd - pos)
                try lexRaw()
                continue
            }
            switch kind {
            case .comment: try lexComment()
            case .output: try lexTag(closing: "}}", begin: .outputBegin, end: .outputEnd)
            case .statement: try lexTag(closing: "%}", begin: .statementBegin, end: .statementEnd)
            }
        }
        tokens.append(JinjaToken(kind: .end, line: line))
    }

    /// The next `{{`, `{%` or `{#` at or after the current position.
    private func nextTag() -> (Int, TagKind)? {
        var i = pos
        while i + 1 < text.count {
            if text[i] == "{" {
                switch text[i + 1] {
                case "{": return (i, .output)
                case "%": return (i, .statement)
                case "#": return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    /// The text before a tag after whitespace control: `-` strips all trailing whitespace; otherwise
    /// lstrip_blocks drops a whitespace-only tail of the last line before a statement or comment.
    private func stripped(_ data: ArraySlice<Unicode.Scalar>, sign: Unicode.Scalar?, beforeOutput: Bool)
        -> ArraySlice<Unicode.Scalar>
    {
        if sign == "-" {
            var end = data.endIndex
            while end > data.startIndex && data[end - 1].isPythonWhitespace { end -= 1 }
            return data[data.startIndex..<end]
        }
        guard sign != "+", !beforeOutput else { return data }
        let lineStart = (data.lastIndex(of: "\n").map { $0 + 1 }) ?? data.startIndex
        let tail = data[lineStart...]
        guard lineStart > data.startIndex || lineStarting, !tail.isEmpty, tail.allSatisfy(\.isPythonWhitespace) else {
            return data
        }
        return data[data.startIndex..<lineStart]
    }

    private mutating func emitText(_ data: ArraySlice<Unicode.Scalar>) {
        if !data.isEmpty { tokens.append(JinjaToken(kind: .text(String(scalars: data)), line: line)) }
    }

    /// After `{%` and its sign: the index just past `raw %}` (or `raw -%}` and whitespace), if this is a raw block.
    private func rawBlockBegin(at index: Int) -> Int? {
        var i = index
        while i < text.count && text[i].isPythonWhitespace { i += 1 }
        guard matches("raw", at: i) else { return nil }
        i += 3
        while i < text.count && text[i].isPythonWhitespace { i += 1 }
        if matches("-%}", at: i) {
            i += 3
            while i < text.count && text[i].isPythonWhitespace { i += 1 }
            return i
        }
        return matches("%}", at: i) ? i + 2 : nil
    }

    /// The body of `{% raw %}` up to `{% endraw %}`, as text.
    private mutating func lexRaw() throws {
        var i = pos
        while i + 1 < text.count {
            if text[i] == "{" && text[i + 1] == "%" {
                var j = i + 2
                let sign = j < text.count && (text[j] == "-" || text[j] == "+") ? text[j] : nil
                if sign != nil { j += 1 }
                while j < text.count && text[j].isPythonWhitespace { j += 1 }
                if matches("endraw", at: j) {
                    j += 6
                    while j < text.count && text[j].isPythonWhitespace { j += 1 }
                    if matches("%}", at: j) || matches("-%}", at: j) || matches("+%}", at: j) {
                        emitText(stripped(text[pos..<i], sign: sign, beforeOutput: false))
                        advance(j - pos)
                        closeTag(closing: "%}")
                        return
                    }
                }
            }
            i += 1
        }
        throw error("missing end of raw directive ('{% endraw %}')")
    }

    /// Consumes `-%}`/`+%}`/`%}` (or the `}}`/`#}` forms) at the current position and the whitespace it controls.
    private mutating func closeTag(closing: String) {
        if peek() == "-" {
            advance(1 + closing.unicodeScalars.count)
            skipWhitespace()
        } else if peek() == "+" {
            advance(1 + closing.unicodeScalars.count)
        } else {
            advance(closing.unicodeScalars.count)
            if closing != "}}" && peek() == "\n" { advance(1) }  // trim_blocks
        }
    }

    private mutating func lexComment() throws {
        let opened = line
        while pos < text.count {
            if matches("-#}", at: pos) || matches("+#}", at: pos) || matches("#}", at: pos) {
                closeTag(closing: "#}")
                return
            }
            advance(1)
        }
        throw TokenizerError.template(message: "missing end of comment tag ('#}') for the comment opened here", line: opened)
    }

    /// The tokens of one `{{ ... }}` or `{% ... %}`; the closing delimiter only counts outside brackets.
    private mutating func lexTag(closing: String, begin: JinjaToken.Kind, end: JinjaToken.Kind) throws {
        let opened = line
        tokens.append(JinjaToken(kind: begin, line: line))
        var brackets: [Unicode.Scalar] = []
        while true {
            guard let c = peek() else {
                throw TokenizerError.template(
                    message: "unexpected end of template: tag opened here was never closed with '\(closing)'", line: opened)
            }
            if brackets.isEmpty
                && (matches(closing, at: pos) || (matches("-" + closing, at: pos))
                    || (closing == "%}" && matches("+%}", at: pos)))
            {
                tokens.append(JinjaToken(kind: end, line: line))
                closeTag(closing: closing)
                return
            }
            if c.isPythonWhitespace {
                advance(1)
            } else if c.isASCIIDigit {
                try lexNumber()
            } else if c == "_" || c.properties.isXIDStart {
                var n = 1
                while let d = peek(n), d == "_" || d.properties.isXIDContinue { n += 1 }
                tokens.append(JinjaToken(kind: .name(String(scalars: text[pos..<(pos + n)])), line: line))
                advance(n)
            } else if c == "'" || c == "\"" {
                try lexString(quote: c)
            } else {
                try lexSymbol(&brackets)
            }
        }
    }

    private static let symbols = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")",
                                  "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"]

    private mutating func lexSymbol(_ brackets: inout [Unicode.Scalar]) throws {
        guard let symbol = JinjaLexer.symbols.first(where: { matches($0, at: pos) }) else {
            throw error("unexpected character \(JinjaValue.pythonStringRepr(String(text[pos])))")
        }
        switch symbol {
        case "(": brackets.append(")")
        case "[": brackets.append("]")
        case "{": brackets.append("}")
        case ")", "]", "}":
            guard let expected = brackets.popLast() else { throw error("unexpected '\(symbol)'") }
            guard String(expected) == symbol else { throw error("unexpected '\(symbol)', expected '\(expected)'") }
        default: break
        }
        tokens.append(JinjaToken(kind: .symbol(symbol), line: line))
        advance(symbol.unicodeScalars.count)
    }

    /// An integer (`12`, `1_000`) or a float (`1.5`, `2e3`, `1.5e-3`).
    private mutating func lexNumber() throws {
        func digits(from start: Int) -> Int {
            var i = start
            while i < text.count && (text[i].isASCIIDigit || (text[i] == "_" && i > start)) { i += 1 }
            return i
        }
        var i = digits(from: pos)
        var isFloat = false
        let afterDot = pos > 0 && text[pos - 1] == "."  // `x.0.1` is attribute access, not a float
        if !afterDot {
            if i + 1 < text.count && text[i] == "." && text[i + 1].isASCIIDigit {
                i = digits(from: i + 1)
                isFloat = true
            }
            if i < text.count && (text[i] == "e" || text[i] == "E") {
                var j = i + 1
                if j < text.count && (text[j] == "+" || text[j] == "-") { j += 1 }
                if j < text.count && text[j].isASCIIDigit {
                    i = digits(from: j)
                    isFloat = true
                }
            }
        }
        let literal = String(scalars: text[pos..<i]).replacingOccurrences(of: "_", with: "")
        if isFloat, let value = Double(literal) {
            tokens.append(JinjaToken(kind: .float(value), line: line))
        } else if let value = Int(literal) {
            tokens.append(JinjaToken(kind: .integer(value), line: line))
        } else {
            throw error("number literal \(literal) is out of range")
        }
        advance(i - pos)
    }

    /// A quoted string, unescaped as Python's `unicode-escape` codec does (unknown escapes keep their backslash).
    private mutating func lexString(quote: Unicode.Scalar) throws {
        let startLine = line
        var value = String.UnicodeScalarView()
        var i = pos + 1
        func hex(_ count: Int, _ kind: String) throws -> Unicode.Scalar {
            guard i + count < text.count,
                  let code = UInt32(String(scalars: text[(i + 1)...(i + count)]), radix: 16),
                  let scalar = Unicode.Scalar(code)
            else { throw TokenizerError.template(message: "invalid \\\(kind) escape in string literal", line: startLine) }
            i += count
            return scalar
        }
        while true {
            guard i < text.count else {
                throw TokenizerError.template(message: "unterminated string literal", line: startLine)
            }
            let c = text[i]
            if c == quote { break }
            guard c == "\\", i + 1 < text.count else {
                value.append(c)
                i += 1
                continue
            }
            i += 1
            let e = text[i]
            switch e {
            case "\n": break
            case "\\", "'", "\"": value.append(e)
            case "a": value.append("\u{07}")
            case "b": value.append("\u{08}")
            case "f": value.append("\u{0C}")
            case "n": value.append("\n")
            case "r": value.append("\r")
            case "t": value.append("\t")
            case "v": value.append("\u{0B}")
            case "x": value.append(try hex(2, "x"))
            case "u": value.append(try hex(4, "u"))
            case "U": value.append(try hex(8, "U"))
            case "0"..."7":
                var code = e.value - 48, n = 1
                while n < 3, i + 1 < text.count, ("0"..."7").contains(text[i + 1]) {
                    i += 1
                    n += 1
                    code = code * 8 + text[i].value - 48
                }
                value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            case "N":
                throw TokenizerError.template(message: "unsupported \\N{...} escape in string literal", line: startLine)
            default:
                value.append("\\")
                value.append(e)
            }
            i += 1
        }
        tokens.append(JinjaToken(kind: .string(String(value)), line: startLine))
        advance(i + 1 - pos)
    }
}

private extension Unicode.Scalar {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
