/// Finds the numbers written in a text: integers, decimals, fractions "3/4", thousands separators
/// "1,000" and LaTeX fractions "\frac{3}{4}" (also \dfrac and \tfrac), each with its exact value.
///
/// Choices (tested in AnswerExtractorTests):
/// - A comma is a thousands separator only between groups of exactly three digits after a first group of
///   one to three ("1,000" and "12,345,678" are single numbers); otherwise it separates numbers ("3,4").
/// - A "-" is a sign unless it follows a digit, a letter or a closing bracket ("x = -5" is -5,
///   "10-5" is 10 and 5).
/// - "3/4" (no spaces) is one fraction; a trailing "." ends a sentence, not a decimal ("42." is 42).
enum NumberScanner {
    /// A number in the text: its byte range in the UTF-8 text and its value (nil when it does not fit).
    struct Match {
        var range: Range<Int>
        var value: Rational?
    }

    static let fractionCommands = ["\\frac{", "\\dfrac{", "\\tfrac{"].map { Array($0.utf8) }

    static func numbers(in text: String) -> [Match] {
        let bytes = Array(text.utf8)
        var matches: [Match] = []
        var i = 0
        while i < bytes.count {
            if let match = number(in: bytes, at: i) {
                matches.append(match)
                i = match.range.upperBound
            } else {
                i += 1
            }
        }
        return matches
    }

    /// The number starting at `start`, if one does.
    static func number(in bytes: [UInt8], at start: Int) -> Match? {
        var i = start
        let negative = bytes[i] == UInt8(ascii: "-") && isSign(bytes, at: i)
        if negative { i += 1 }
        let match: Match?
        if fractionCommands.contains(where: { bytes.hasPrefix($0, at: i) }) {
            match = latexFraction(in: bytes, at: i)
        } else if i < bytes.count, isDigit(bytes[i]) || (bytes[i] == UInt8(ascii: ".") && isDigit(bytes, at: i + 1)) {
            match = plainNumber(in: bytes, at: i)
        } else {
            match = nil
        }
        guard let match else { return nil }
        return Match(range: start..<match.range.upperBound, value: negative ? try? match.value?.negated() : match.value)
    }

    /// digits (',' ddd)* ('.' digits)? ('/' digits)?
    private static func plainNumber(in bytes: [UInt8], at start: Int) -> Match {
        var i = start
        while isDigit(bytes, at: i) { i += 1 }
        if (1...3).contains(i - start) {
            while i < bytes.count, bytes[i] == UInt8(ascii: ","),
                  isDigit(bytes, at: i + 1), isDigit(bytes, at: i + 2), isDigit(bytes, at: i + 3),
                  !isDigit(bytes, at: i + 4) {
                i += 4
            }
        }
        if bytes.indices.contains(i), bytes[i] == UInt8(ascii: "."), isDigit(bytes, at: i + 1) {
            i += 1
            while isDigit(bytes, at: i) { i += 1 }
        }
        if bytes.indices.contains(i), bytes[i] == UInt8(ascii: "/"), isDigit(bytes, at: i + 1) {
            i += 1
            while isDigit(bytes, at: i) { i += 1 }
        }
        let literal = String(decoding: bytes[start..<i].filter { $0 != UInt8(ascii: ",") }, as: UTF8.self)
        return Match(range: start..<i, value: fractionValue(literal))
    }

    /// "1.5/2" is (1.5)/2; "3/4" and "0.75" as `Rational` parses them.
    private static func fractionValue(_ literal: String) -> Rational? {
        guard let slash = literal.firstIndex(of: "/") else { return Rational(literal) }
        guard let top = Rational(literal[..<slash]), let bottom = Rational(literal[literal.index(after: slash)...])
        else { return nil }
        return try? top.divided(by: bottom)
    }

    /// \frac{a}{b} where a and b are each one number (possibly signed or nested).
    private static func latexFraction(in bytes: [UInt8], at start: Int) -> Match? {
        guard let command = fractionCommands.first(where: { bytes.hasPrefix($0, at: start) }),
              let top = bracedGroup(in: bytes, openingAt: start + command.count - 1),
              let bottom = bracedGroup(in: bytes, openingAt: top.upperBound + 1) else { return nil }
        let a = AnswerExtractor.number(in: String(decoding: bytes[top], as: UTF8.self))
        let b = AnswerExtractor.number(in: String(decoding: bytes[bottom], as: UTF8.self))
        let value = a.flatMap { a in b.flatMap { try? a.divided(by: $0) } }
        return Match(range: start..<(bottom.upperBound + 1), value: value)
    }

    /// The contents of the braces opening at `open` (exclusive of the braces), when they balance.
    static func bracedGroup(in bytes: [UInt8], openingAt open: Int) -> Range<Int>? {
        guard bytes.indices.contains(open), bytes[open] == UInt8(ascii: "{") else { return nil }
        var depth = 0
        for i in open..<bytes.count {
            if bytes[i] == UInt8(ascii: "{") { depth += 1 }
            if bytes[i] == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return (open + 1)..<i }
            }
        }
        return nil
    }

    /// A "-" is a sign unless the previous non-space byte ends an operand (digit, letter, closing bracket).
    private static func isSign(_ bytes: [UInt8], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j -= 1 }
        guard j >= 0 else { return true }
        let b = bytes[j]
        let endsOperand = isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: ")")
            || b == UInt8(ascii: "]") || b == UInt8(ascii: "}")
        return !endsOperand
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private static func isDigit(_ bytes: [UInt8], at i: Int) -> Bool { bytes.indices.contains(i) && isDigit(bytes[i]) }
}

extension Array where Element == UInt8 {
    func hasPrefix(_ prefix: [UInt8], at start: Int) -> Bool {
        start >= 0 && start + prefix.count <= count && self[start..<(start + prefix.count)].elementsEqual(prefix)
    }
}
