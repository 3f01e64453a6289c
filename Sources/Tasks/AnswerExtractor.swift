import Foundation

/// Finds the final answer in a completion and the reference answer in a dataset column, as exact
/// `Rational`s, so "0.75", "3/4" and "\frac{3}{4}" are the same answer and "0.1+0.2" style rounding never
/// decides a reward.
///
/// A completion's answer is taken from, in order: the last `<answer>...</answer>`, else the last
/// `\boxed{...}`, else the last number in the text. Inside a tag or box the contents must be a number
/// (surrounding `$`, a trailing "." and spaces are ignored), else the box inside it, else its last number.
/// Number forms: see `NumberScanner` (integers, decimals, "3/4", "1,000", LaTeX \frac, \dfrac, \tfrac).
public enum AnswerExtractor {
    /// The exact final answer of a completion; nil when it holds no number.
    public static func finalAnswer(in completion: String) -> Rational? {
        if let content = tagContent("answer", in: completion) { return value(of: content) }
        if let boxed = boxedContent(in: completion) { return value(of: boxed) }
        return lastNumber(in: completion)
    }

    /// Whether the completion's final answer equals the reference answer exactly; nil when the reference is
    /// not a number (cannot judge). A completion without a number is simply wrong.
    public static func matches(completion: String, answer: JSONValue) -> Bool? {
        guard let expected = referenceAnswer(answer) else { return nil }
        return finalAnswer(in: completion) == expected
    }

    /// The exact value of a reference answer: a number, or a number inside `<answer>` tags or `\boxed{}`,
    /// or after GSM8K's "#### ". Nil for anything else (e.g. a countdown expression), so a reward can
    /// say it cannot judge instead of guessing.
    public static func referenceAnswer(_ text: String) -> Rational? {
        if let value = number(in: text) { return value }
        if let content = tagContent("answer", in: text) ?? boxedContent(in: text) { return number(in: content) }
        if let marker = text.range(of: "####", options: .backwards) { return number(in: text[marker.upperBound...]) }
        return nil
    }

    /// A reference answer held in a JSON column: an integer, a double (read from its shortest decimal form,
    /// so 0.1 is exactly 1/10) or a string as in `referenceAnswer(_:)`.
    public static func referenceAnswer(_ json: JSONValue) -> Rational? {
        switch json {
        case let .int(value): Rational(value)
        case let .double(value): value.isFinite ? Rational("\(value)") : nil
        case let .string(text): referenceAnswer(text)
        default: nil
        }
    }

    /// The text must be exactly one number, ignoring surrounding whitespace, `$...$`, `\(...\)`, a trailing
    /// "." and spaces around "/" or after a leading "-".
    public static func number(in text: some StringProtocol) -> Rational? {
        let candidate = normalised(text)
        let matches = NumberScanner.numbers(in: candidate)
        guard matches.count == 1, let match = matches.first, match.range == 0..<candidate.utf8.count else { return nil }
        return match.value
    }

    /// The value of the last number in the text (nil when there is none, or it does not fit).
    public static func lastNumber(in text: String) -> Rational? {
        NumberScanner.numbers(in: text.replacingMinusSigns()).last?.value
    }

    /// The contents of the last `<tag>...</tag>`, if the text has one.
    public static func tagContent(_ tag: String, in text: String) -> String? {
        guard let close = text.range(of: "</\(tag)>", options: .backwards),
              let open = text[..<close.lowerBound].range(of: "<\(tag)>", options: .backwards) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }

    /// The contents of the last `\boxed{...}` (or `\fbox{...}`) whose braces balance.
    public static func boxedContent(in text: String) -> String? {
        let bytes = Array(text.utf8)
        for command in ["\\boxed", "\\fbox"] {
            let pattern = Array(command.utf8)
            var start = bytes.count - pattern.count
            while start >= 0 {
                if bytes.hasPrefix(pattern, at: start) {
                    var open = start + pattern.count
                    while open < bytes.count, bytes[open] == UInt8(ascii: " ") { open += 1 }
                    if let group = NumberScanner.bracedGroup(in: bytes, openingAt: open) {
                        return String(decoding: bytes[group], as: UTF8.self)
                    }
                }
                start -= 1
            }
        }
        return nil
    }

    /// A tag's or box's contents: one number, else a box inside, else the last number.
    private static func value(of region: String) -> Rational? {
        number(in: region) ?? boxedContent(in: region).flatMap { number(in: $0) } ?? lastNumber(in: region)
    }

    private static func normalised(_ text: some StringProtocol) -> String {
        var s = String(text).replacingMinusSigns().trimmingWhitespace()
        for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
        where s.count >= open.count + close.count && s.hasPrefix(open) && s.hasSuffix(close) {
            s = String(s.dropFirst(open.count).dropLast(close.count)).trimmingWhitespace()
        }
        if s.hasSuffix(".") { s.removeLast() }
        s = s.removingSpaces(around: ["/", "-"])
        return s.trimmingWhitespace()
    }
}

extension String {
    /// The Unicode minus sign U+2212 as ASCII "-".
    func replacingMinusSigns() -> String {
        contains("\u{2212}") ? split(separator: "\u{2212}", omittingEmptySubsequences: false).joined(separator: "-") : self
    }

    /// Removes the spaces directly before or after any of `anchors`.
    func removingSpaces(around anchors: [Character]) -> String {
        var result: [Character] = []
        for c in self {
            if anchors.contains(c) { while result.last == " " { result.removeLast() } }
            if c == " ", let last = result.last, anchors.contains(last) { continue }
            result.append(c)
        }
        return String(result)
    }
}
