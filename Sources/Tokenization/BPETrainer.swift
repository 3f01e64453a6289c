/// Trains a byte-level BPE tokenizer on a corpus, as Hugging Face `tokenizers`' BpeTrainer does:
/// pre-tokenize, start from the 256 byte symbols, and repeatedly merge the most frequent adjacent
/// pair (ties: the pair that sorts first) until the vocabulary is full.
///
/// The result is an ordinary `Tokenizer` (save it with `save(to:)`); its tokenizer.json loads in
/// Hugging Face `tokenizers` and encodes identically (Scripts/check_trained_tokenizer.py).
public struct BPETrainer {
    public var vocabSize: Int
    /// Added tokens, given ids 0..<count in this order (special, never split).
    public var specialTokens: [String]
    /// Added tokens that are ordinary text (never split, kept by `skipSpecialTokens` decoding), such
    /// as Qwen3's `<think>`; ids follow the specials.
    public var addedTokens: [String]
    public var preTokenizer: PreTokenizer
    /// Pieces seen fewer times are not merged from (the piece still encodes through its bytes).
    public var minFrequency: Int

    public init(vocabSize: Int, specialTokens: [String] = [], addedTokens: [String] = [], preTokenizer: PreTokenizer = .smolLM2,
                minFrequency: Int = 1) {
        self.vocabSize = vocabSize
        self.specialTokens = specialTokens
        self.addedTokens = addedTokens
        self.preTokenizer = preTokenizer
        self.minFrequency = minFrequency
    }

    /// Trains on `texts`. `config` names the bos/eos/pad tokens (which should be among the specials).
    public func train(_ texts: [String], config: TokenizerConfig = TokenizerConfig()) throws -> Tokenizer {
        let whole = specialTokens + addedTokens
        let base = whole.count + ByteLevel.characters.count
        guard vocabSize >= base else {
            throw TokenizerError.malformed(file: "tokenizer training", field: "vocab_size",
                                           reason: "\(vocabSize) is below the \(base) added and byte symbols")
        }
        guard Set(whole).count == whole.count, !whole.contains("") else {
            throw TokenizerError.malformed(file: "tokenizer training", field: "added tokens",
                                           reason: "must be distinct and non-empty, got \(whole)")
        }
        // Piece frequencies; each piece is a word of symbols (strings), starting from its characters.
        var counts: [String: Int] = [:]
        let specials = Set(whole)
        for text in texts {
            // Added tokens inside the corpus are not split into bytes.
            for segment in Self.split(text, around: specials) where !specials.contains(segment) {
                for piece in try preTokenizer.pieces(of: segment) { counts[piece, default: 0] += 1 }
            }
        }
        var words = counts.filter { $0.value >= minFrequency }.sorted { $0.key < $1.key }
            .map { (symbols: $0.key.unicodeScalars.map { String($0) }, count: $0.value) }
        var vocab: [String: Int] = [:]
        for (i, token) in whole.enumerated() { vocab[token] = i }
        for scalar in ByteLevel.characters where vocab[String(scalar)] == nil { vocab[String(scalar)] = vocab.count }
        var merges: [(String, String)] = []
        while vocab.count < vocabSize {
            var pairCounts: [Pair: Int] = [:]
            for word in words where word.symbols.count > 1 {
                for i in 0..<(word.symbols.count - 1) { pairCounts[Pair(word.symbols[i], word.symbols[i + 1]), default: 0] += word.count }
            }
            guard let best = pairCounts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else { break }
            let merged = best.key.left + best.key.right
            merges.append((best.key.left, best.key.right))
            if vocab[merged] == nil { vocab[merged] = vocab.count }
            for w in words.indices where words[w].symbols.count > 1 {
                var symbols = words[w].symbols, i = 0
                while i < symbols.count - 1 {
                    if symbols[i] == best.key.left && symbols[i + 1] == best.key.right {
                        symbols[i] = merged
                        symbols.remove(at: i + 1)
                    }
                    i += 1
                }
                words[w].symbols = symbols
            }
        }
        let added = whole.enumerated().map { AddedToken(id: $0.offset, content: $0.element, special: $0.offset < specialTokens.count) }
        return try Tokenizer(vocab: vocab, merges: merges, addedTokens: added, preTokenizer: preTokenizer,
                             postProcessor: .byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: false, useRegex: true)),
                             decoder: .byteLevel(ByteLevelOptions()), config: config)
    }

    /// The text cut into special-token occurrences and the stretches between them.
    static func split(_ text: String, around specials: Set<String>) -> [String] {
        guard !specials.isEmpty else { return [text] }
        var parts: [String] = [], rest = Substring(text)
        while !rest.isEmpty {
            let hit = specials.compactMap { s in rest.range(of: s).map { (s, $0) } }.min { $0.1.lowerBound < $1.1.lowerBound }
            guard let (special, range) = hit else { parts.append(String(rest)); break }
            if range.lowerBound > rest.startIndex { parts.append(String(rest[..<range.lowerBound])) }
            parts.append(special)
            rest = rest[range.upperBound...]
        }
        return parts
    }

    struct Pair: Hashable, Comparable {
        let left: String, right: String
        init(_ left: String, _ right: String) {
            self.left = left
            self.right = right
        }
        static func < (a: Pair, b: Pair) -> Bool { (a.left, a.right) < (b.left, b.right) }
    }
}
