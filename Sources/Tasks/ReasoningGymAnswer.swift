import Foundation

/// The answer a completion gives to a reasoning-gym problem: the text reasoning-gym's `score_answer` is
/// handed (`ReasoningGymScorer`).
///
/// 1. When the completion has `<answer>...</answer>`: the last one's contents, stripped, exactly as
///    reasoning-gym's own `utils.extract_answer` takes it (`<answer>\s?(.*?)\s?</answer>`, last match,
///    `strip()`), so a completion in reasoning-gym's format is judged as reasoning-gym judges it.
/// 2. Otherwise the last number in the text, matched by `-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?`
///    ("1,000" with its commas, "-3.5"; a trailing "." is not part of it). Our prompts ask for the final
///    answer as a number at the end, and a 135M model answers "The answer is 42." rather than in tags.
/// 3. Otherwise nil (scored 0 by every scorer).
public enum ReasoningGymAnswer {
    /// The pattern of step 2, applied with `NSRegularExpression` (leftmost, greedy, ordered alternation,
    /// as Python's `re`).
    public static let numberPattern = #"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"#
    private static let number = try! NSRegularExpression(pattern: numberPattern)

    /// The answer text of a completion; nil when it has neither tags nor a number.
    public static func extract(from completion: String) -> String? {
        tagContent(in: completion) ?? lastNumber(in: completion)
    }

    /// The stripped contents of the last `<answer>...</answer>`: each match runs from an opening tag to
    /// the first closing tag after it, and the next match is looked for after that closing tag.
    public static func tagContent(in text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        let open = Array("<answer>".unicodeScalars), close = Array("</answer>".unicodeScalars)
        func find(_ tag: [Unicode.Scalar], from start: Int) -> Int? {
            guard scalars.count >= tag.count, start <= scalars.count - tag.count else { return nil }
            return (start...(scalars.count - tag.count)).first { scalars[$0..<($0 + tag.count)].elementsEqual(tag) }
        }
        var found: Range<Int>?
        var from = 0
        while let opening = find(open, from: from), let closing = find(close, from: opening + open.count) {
            found = (opening + open.count)..<closing
            from = closing + close.count
        }
        return found.map { String(String.UnicodeScalarView(scalars[$0])).pythonStripped() }
    }

    /// The last match of `numberPattern` in the text.
    public static func lastNumber(in text: String) -> String? {
        let all = NSRange(text.startIndex..., in: text)
        return number.matches(in: text, range: all).last.flatMap { Range($0.range, in: text) }.map { String(text[$0]) }
    }
}
