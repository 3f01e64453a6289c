import Foundation

/// What a `Split` pre-tokenizer looks for: `{"Regex": "..."}` (Oniguruma syntax) or `{"String": "..."}`.
public enum SplitPattern: Sendable, Equatable, Codable {
    case regex(String)
    case string(String)

    /// GPT-2's pattern (also the one built into the ByteLevel pre-tokenizer).
    public static let gpt2 = SplitPattern.regex(KnownPatterns.gpt2)
    /// Llama 3's pattern.
    public static let llama3 = SplitPattern.regex(KnownPatterns.llama3)
    /// Qwen2's pattern (Qwen2.5 and Qwen3 use it too).
    public static let qwen2 = SplitPattern.regex(KnownPatterns.qwen2)

    private enum CodingKeys: String, CodingKey {
        case regex = "Regex"
        case string = "String"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let regex = try container.decodeIfPresent(String.self, forKey: .regex) {
            self = .regex(regex)
        } else if let string = try container.decodeIfPresent(String.self, forKey: .string) {
            self = .string(string)
        } else {
            throw TokenizerJSON.malformed(decoder, field: "Regex", "expected {\"Regex\": ...} or {\"String\": ...}")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .regex(let regex): try container.encode(regex, forKey: .regex)
        case .string(let string): try container.encode(string, forKey: .string)
        }
    }
}

/// What a `Split` keeps of the matches and the text between them (tokenizer.json's `behavior`).
public enum SplitBehavior: String, Sendable, Equatable, Codable {
    /// Drop the matches.
    case removed = "Removed"
    /// Matches and the text between them each become a piece.
    case isolated = "Isolated"
    /// Each match joins the piece before it.
    case mergedWithPrevious = "MergedWithPrevious"
    /// Each match joins the piece after it.
    case mergedWithNext = "MergedWithNext"
    /// Consecutive matches form one piece.
    case contiguous = "Contiguous"

    /// The byte ranges of the pieces (empty ones included; the caller drops them), as Hugging Face's
    /// `NormalizedString::split` computes them.
    func pieces(of segments: [TextSegment]) -> [Range<Int>] {
        switch self {
        case .isolated:
            return segments.map(\.range)
        case .removed:
            return segments.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            return Self.fold(segments) { isMatch, previousIsMatch in isMatch == previousIsMatch }
        case .mergedWithPrevious:
            return Self.fold(segments) { isMatch, previousIsMatch in isMatch && !previousIsMatch }
        case .mergedWithNext:
            // The same fold from the right: a match joins the piece after it.
            let mirrored = segments.reversed().map { TextSegment(range: -$0.range.upperBound ..< -$0.range.lowerBound, isMatch: $0.isMatch) }
            let pieces = Self.fold(mirrored) { isMatch, previousIsMatch in isMatch && !previousIsMatch }
            return pieces.reversed().map { -$0.upperBound ..< -$0.lowerBound }
        }
    }

    /// Walks the segments left to right, extending the last piece over a segment when `joins` says so.
    private static func fold(_ segments: [TextSegment], joins: (Bool, Bool) -> Bool) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var previousIsMatch = false
        for segment in segments {
            if joins(segment.isMatch, previousIsMatch), let last = pieces.last {
                pieces[pieces.count - 1] = last.lowerBound ..< segment.range.upperBound
            } else {
                pieces.append(segment.range)
            }
            previousIsMatch = segment.isMatch
        }
        return pieces
    }
}

/// A stretch of text after matching a pattern: a match, or the text between matches.
struct TextSegment: Equatable {
    var range: Range<Int>
    var isMatch: Bool
}

/// A compiled `SplitPattern`: a hand-written matcher for the patterns of GPT-2, Llama 3 and Qwen2,
/// a byte search for strings, and ICU's regex engine (`NSRegularExpression`) for anything else.
/// `numbers` matches each numeric character, for the Digits pre-tokenizer.
enum PatternMatcher: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe
    case gpt2
    case llama3(maxDigits: Int)
    case literal([UInt8])
    case general(NSRegularExpression)
    case numbers

    /// Compiles `pattern`; `handWritten: false` forces the general engine (to test one against the other).
    init(_ pattern: SplitPattern, handWritten: Bool = true) throws {
        switch pattern {
        case .string(let string):
            self = .literal(Array(string.utf8))
        case .regex(let regex) where handWritten && regex == KnownPatterns.gpt2:
            self = .gpt2
        case .regex(let regex) where handWritten && regex == KnownPatterns.llama3:
            self = .llama3(maxDigits: 3)
        case .regex(let regex) where handWritten && regex == KnownPatterns.qwen2:
            self = .llama3(maxDigits: 1)
        case .regex(let regex):
            self = .general(try NSRegularExpression(pattern: Self.icuPattern(regex)))
        }
    }

    /// Calls `body` with each match, left to right, non-overlapping.
    func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        switch self {
        case .gpt2:
            KnownPatterns.scan(text) { patterns in
                var i = 0
                while i < text.count {
                    let end = patterns.gpt2MatchEnd(at: i)
                    body(i..<end)
                    i = end
                }
            }
        case .llama3(let maxDigits):
            KnownPatterns.scan(text) { patterns in
                var i = 0
                while i < text.count {
                    let end = patterns.llama3MatchEnd(at: i, maxDigits: maxDigits)
                    body(i..<end)
                    i = end
                }
            }
        case .literal(let needle):
            guard !needle.isEmpty, needle.count <= text.count else { return }
            var i = 0
            while i + needle.count <= text.count {
                if text[i] == needle[0], needle.indices.allSatisfy({ text[i + $0] == needle[$0] }) {
                    body(i..<i + needle.count)
                    i += needle.count
                } else {
                    i += 1
                }
            }
        case .general(let regex):
            Self.forEachMatch(of: regex, in: text, body)
        case .numbers:
            // Rust's `char::is_numeric`, which is \p{N}.
            var i = 0
            while i < text.count {
                let (value, length) = text.scalar(at: i)
                if CharacterClass.of(value) == .number { body(i..<i + length) }
                i += length
            }
        }
    }

    /// Calls `body` with the matches and the stretches between them, covering all of `text` (empty
    /// text gives one empty non-match), as Hugging Face's `find_matches`.
    func forEachSegment(in text: UnsafeBufferPointer<UInt8>, _ body: (TextSegment) -> Void) {
        if text.isEmpty { return body(TextSegment(range: 0..<0, isMatch: false)) }
        var previous = 0
        forEachMatch(in: text) { match in
            if match.lowerBound != previous { body(TextSegment(range: previous..<match.lowerBound, isMatch: false)) }
            body(TextSegment(range: match, isMatch: true))
            previous = match.upperBound
        }
        if previous != text.count { body(TextSegment(range: previous..<text.count, isMatch: false)) }
    }

    private static func forEachMatch(of regex: NSRegularExpression, in text: UnsafeBufferPointer<UInt8>,
                                     _ body: (Range<Int>) -> Void) {
        let string = String(decoding: text, as: UTF8.self)
        // NSRegularExpression reports UTF-16 offsets; map them back to UTF-8 offsets.
        var utf8Offset: [Int] = []
        utf8Offset.reserveCapacity(text.count + 1)
        var offset = 0
        for scalar in string.unicodeScalars {
            for _ in 0..<UTF16.width(scalar) { utf8Offset.append(offset) }
            offset += UTF8.width(scalar)
        }
        utf8Offset.append(offset)
        let all = NSRange(location: 0, length: utf8Offset.count - 1)
        for match in regex.matches(in: string, range: all) {
            body(utf8Offset[match.range.lowerBound]..<utf8Offset[match.range.upperBound])
        }
    }

    /// Oniguruma's `\s` is Unicode White_Space; ICU's lacks U+000B and U+0085. Spell it out.
    static func icuPattern(_ pattern: String) -> String {
        let whitespace = #"\t-\r\x{85}\p{Z}"#
        var out = ""
        var classDepth = 0
        var scalars = pattern.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            if scalar == "\\", let escaped = scalars.next() {
                switch escaped {
                case "s": out += classDepth > 0 ? whitespace : "[\(whitespace)]"
                case "S": out += "[^\(whitespace)]"
                default: out.unicodeScalars.append(contentsOf: [scalar, escaped])
                }
                continue
            }
            if scalar == "[" { classDepth += 1 } else if scalar == "]", classDepth > 0 { classDepth -= 1 }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
