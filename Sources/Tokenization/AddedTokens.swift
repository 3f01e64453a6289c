/// A token of tokenizer.json's `added_tokens`: found in the text before pre-tokenization and never
/// split by BPE. `decode(_:skipSpecialTokens: true)` drops the special ones.
public struct AddedToken: Sendable, Equatable, Codable {
    public var id: Int
    public var content: String
    /// A control token (bos, eos, chat markers) rather than a piece of text.
    public var special: Bool
    /// Only matches where it is not part of a longer word.
    public var singleWord: Bool
    /// The match takes the whitespace on its left.
    public var lstrip: Bool
    /// The match takes the whitespace on its right.
    public var rstrip: Bool
    /// Matched in the normalized text (true) or in the raw text (false).
    public var normalized: Bool

    /// A token; `normalized` defaults to `!special`, as in Hugging Face.
    public init(id: Int, content: String, special: Bool = true, singleWord: Bool = false,
                lstrip: Bool = false, rstrip: Bool = false, normalized: Bool? = nil) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized ?? !special
    }

    private enum CodingKeys: String, CodingKey {
        case id, content, lstrip, rstrip, normalized, special
        case singleWord = "single_word"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try container.decode(Int.self, forKey: .id),
                  content: try container.decode(String.self, forKey: .content),
                  special: try container.decodeIfPresent(Bool.self, forKey: .special) ?? false,
                  singleWord: try container.decodeIfPresent(Bool.self, forKey: .singleWord) ?? false,
                  lstrip: try container.decodeIfPresent(Bool.self, forKey: .lstrip) ?? false,
                  rstrip: try container.decodeIfPresent(Bool.self, forKey: .rstrip) ?? false,
                  normalized: try container.decodeIfPresent(Bool.self, forKey: .normalized))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(content, forKey: .content)
        try container.encode(singleWord, forKey: .singleWord)
        try container.encode(lstrip, forKey: .lstrip)
        try container.encode(rstrip, forKey: .rstrip)
        try container.encode(normalized, forKey: .normalized)
        try container.encode(special, forKey: .special)
    }
}

/// Finds added tokens in text as Hugging Face does: at the leftmost position where one starts, the
/// longest one (Aho-Corasick, leftmost-longest), then applies `single_word`, `lstrip` and `rstrip`.
struct AddedTokenMatcher: Sendable {
    /// A stretch of the text: an added token's id, or text to pre-tokenize.
    enum Segment: Equatable {
        case token(Int)
        case text(Range<Int>)
    }

    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var token: Int32 = -1  // index into `tokens` if a pattern ends here
    }

    private var nodes = [Node()]
    private var tokens: [AddedToken] = []
    private var startsPattern = [Bool](repeating: false, count: 256)

    /// A matcher for `tokens`, each found by its `pattern` (its content, normalized if it is a normalized token).
    init(_ entries: [(pattern: String, token: AddedToken)]) {
        for (pattern, token) in entries where !pattern.isEmpty {
            var node = 0
            for byte in pattern.utf8 {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes[node].children[byte] = Int32(nodes.count)
                    node = nodes.count
                    nodes.append(Node())
                }
            }
            nodes[node].token = Int32(tokens.count)
            tokens.append(token)
            startsPattern[Int(pattern.utf8.first ?? 0)] = true
        }
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// The added tokens and the text around them, in order; empty text stretches are left out.
    func segments(in text: UnsafeBufferPointer<UInt8>) -> [Segment] {
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        while i < text.count {
            guard startsPattern[Int(text[i])], let match = longestMatch(in: text, at: i) else {
                i += 1
                continue
            }
            let token = match.token
            var start = i
            var stop = match.end
            i = match.end  // the search goes on after the match even if `single_word` discards it
            if token.singleWord, !isSingleWord(text, start, stop) { continue }
            if token.lstrip { start = max(Self.whitespaceStart(in: text, before: start), textStart) }
            if token.rstrip { stop = Self.whitespaceEnd(in: text, from: stop) }
            if textStart < start { segments.append(.text(textStart..<start)) }
            segments.append(.token(token.id))
            textStart = max(textStart, stop)
        }
        if textStart < text.count { segments.append(.text(textStart..<text.count)) }
        return segments
    }

    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at start: Int) -> (end: Int, token: AddedToken)? {
        var node = 0
        var best: (end: Int, token: AddedToken)?
        var j = start
        while j < text.count, let child = nodes[node].children[text[j]] {
            node = Int(child)
            j += 1
            if nodes[node].token >= 0 { best = (j, tokens[Int(nodes[node].token)]) }
        }
        return best
    }

    /// Neither neighbour of `start..<stop` is a word character (Rust's `\w`).
    private func isSingleWord(_ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ stop: Int) -> Bool {
        let before = start == 0 || !CharacterClass.isWordCharacter(text.scalar(at: text.scalarStart(before: start)).value)
        let after = stop == text.count || !CharacterClass.isWordCharacter(text.scalar(at: stop).value)
        return before && after
    }

    /// Where the run of whitespace ending at `end` starts.
    private static func whitespaceStart(in text: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        var start = end
        while start > 0 {
            let previous = text.scalarStart(before: start)
            guard CharacterClass.of(text.scalar(at: previous).value) == .whitespace else { break }
            start = previous
        }
        return start
    }

    /// Where the run of whitespace starting at `start` ends.
    private static func whitespaceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < text.count {
            let (value, length) = text.scalar(at: end)
            guard CharacterClass.of(value) == .whitespace else { break }
            end += length
        }
        return end
    }
}
