import Foundation

/// The `model` of tokenizer.json when its type is "BPE": a vocabulary, ranked merges, and the
/// options of Hugging Face's BPE that byte-level tokenizers use.
///
/// Encoding a word starts from one symbol per byte (byte-level vocabularies) or per character, then
/// repeatedly applies the lowest-ranked merge among adjacent pairs (leftmost first), exactly as
/// Hugging Face's `Word::merge_all`.
public struct BPEModel: Sendable {
    /// Settings of the BPE model beyond vocabulary and merges.
    public struct Options: Sendable, Equatable {
        /// Look a whole word up in the vocabulary before merging (Llama 3).
        public var ignoreMerges: Bool
        /// The token for characters missing from the vocabulary; nil drops them.
        public var unknownToken: String?
        /// Join consecutive unknown characters into one unknown token.
        public var fuseUnknown: Bool

        public init(ignoreMerges: Bool = false, unknownToken: String? = nil, fuseUnknown: Bool = false) {
            self.ignoreMerges = ignoreMerges
            self.unknownToken = unknownToken
            self.fuseUnknown = fuseUnknown
        }
    }

    /// The ids a vocabulary may use (real ones stay below 300,000).
    static let validIDs = 0..<(1 << 24)

    /// Token string to id.
    public let vocab: [String: Int]
    /// Merges in rank order (rank 0 first).
    public let merges: [(String, String)]
    public let options: Options

    /// Token string of each id (nil for ids the vocabulary skips).
    let tokens: [String?]
    private let mergeTable: MergeTable
    /// Id of each byte's byte-level character, or -1.
    private let byteIDs: [Int32]
    private let unknownID: Int?
    private let cache = SharedWordCache()

    /// Builds the model, checking that every merge's parts and result are in the vocabulary.
    /// `file` names the source in errors.
    public init(vocab: [String: Int], merges: [(String, String)], options: Options = Options(),
                file: String = "in-memory tokenizer") throws {
        self.vocab = vocab
        self.merges = merges
        self.options = options
        for (token, id) in vocab where !Self.validIDs.contains(id) {
            throw TokenizerError.malformed(file: file, field: "model.vocab", reason: "token '\(token)' has id \(id), expected \(Self.validIDs)")
        }
        var tokens = [String?](repeating: nil, count: (vocab.values.max() ?? -1) + 1)
        for (token, id) in vocab { tokens[id] = token }
        self.tokens = tokens
        var table = MergeTable(capacity: merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            func id(_ token: String) throws -> Int {
                guard let id = vocab[token] else {
                    throw TokenizerError.malformed(file: file, field: "model.merges[\(rank)]",
                                                   reason: "token '\(token)' of merge '\(left) \(right)' is not in the vocabulary")
                }
                return id
            }
            // A later duplicate wins, as in Hugging Face.
            table.insert(Int32(try id(left)), Int32(try id(right)), rank: UInt32(rank), id: Int32(try id(left + right)))
        }
        mergeTable = table
        byteIDs = ByteLevel.characters.map { vocab[String($0)].map(Int32.init) ?? -1 }
        if let unknown = options.unknownToken {
            guard let id = vocab[unknown] else {
                throw TokenizerError.malformed(file: file, field: "model.unk_token", reason: "'\(unknown)' is not in the vocabulary")
            }
            unknownID = id
        } else {
            unknownID = nil
        }
    }

    /// The token string of an id of the vocabulary.
    public func token(for id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    /// Appends the ids of one pre-tokenized word: bytes for byte-level models (`byteLevel`), UTF-8 text otherwise.
    func appendTokens(of word: UnsafeBufferPointer<UInt8>, byteLevel: Bool, to ids: inout [Int]) {
        guard word.count <= WordCache.maxWordLength else { return encode(word, byteLevel: byteLevel, to: &ids) }
        let hash = WordCache.hash(word)
        if cache.lookup(word, hash: hash, appendingTo: &ids) { return }
        let start = ids.count
        encode(word, byteLevel: byteLevel, to: &ids)
        cache.insert(word, hash: hash, ids: ids[start...])
    }

    private func encode(_ word: UnsafeBufferPointer<UInt8>, byteLevel: Bool, to ids: inout [Int]) {
        if options.ignoreMerges {
            let spelled = byteLevel ? ByteLevel.string(word) : String(decoding: word, as: UTF8.self)
            if let id = vocab[spelled] { return ids.append(id) }
        }
        // At most one symbol per byte; scratch space on the stack for ordinary words.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: word.count) { symbols in
            let count = byteLevel ? byteSymbols(word, into: symbols) : characterSymbols(word, into: symbols)
            let kept = merge(UnsafeMutableBufferPointer(rebasing: symbols[0..<count]))
            for i in 0..<kept { ids.append(Int(symbols[i])) }
        }
    }

    /// One symbol per byte; returns how many.
    private func byteSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        var count = 0
        var lastWasUnknown = false
        for byte in word {
            appendSymbol(byteIDs[Int(byte)], to: symbols, &count, lastWasUnknown: &lastWasUnknown)
        }
        return count
    }

    /// One symbol per character; returns how many.
    private func characterSymbols(_ word: UnsafeBufferPointer<UInt8>, into symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        var count = 0
        var lastWasUnknown = false
        var i = 0
        while i < word.count {
            let length = word.scalar(at: i).length
            let id = vocab[String(decoding: word.slice(i..<i + length), as: UTF8.self)].map(Int32.init) ?? -1
            appendSymbol(id, to: symbols, &count, lastWasUnknown: &lastWasUnknown)
            i += length
        }
        return count
    }

    /// Appends a symbol; a missing one (-1) becomes the unknown token (fused with a previous one if
    /// `fuse_unk`), or is dropped when there is none.
    @inline(__always)
    private func appendSymbol(_ id: Int32, to symbols: UnsafeMutableBufferPointer<Int32>, _ count: inout Int,
                              lastWasUnknown: inout Bool) {
        if id >= 0 {
            symbols[count] = id
            count += 1
            lastWasUnknown = false
        } else if let unknownID {
            if !(options.fuseUnknown && lastWasUnknown) {
                symbols[count] = Int32(unknownID)
                count += 1
            }
            lastWasUnknown = true
        }
    }

    /// Hugging Face's `Word::merge_all` without dropout: a min-heap of candidate merges by (rank,
    /// position); stale candidates are skipped when popped. Merges `symbols` in place and returns how
    /// many remain (moved to the front).
    private func merge(_ symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        let count = symbols.count
        guard count > 1 else { return count }
        // A doubly linked list over the symbols; a symbol merged into its left neighbour is dead.
        return withUnsafeTemporaryAllocation(of: Link.self, capacity: count) { links in
            for i in 0..<count { links[i] = Link(previous: i - 1, next: i + 1, alive: true) }
            // Each merge pushes at most two candidates: 3 * count bounds the queue.
            return withUnsafeTemporaryAllocation(of: MergeQueue.Candidate.self, capacity: 3 * count) { storage in
                var queue = MergeQueue(storage: storage)
                for i in 0..<count - 1 {
                    if let merge = mergeTable.merge(symbols[i], symbols[i + 1]) { queue.push(rank: merge.rank, position: i, id: merge.id) }
                }
                while let top = queue.pop() {
                    let position = top.position
                    let right = links[position].next
                    guard links[position].alive, right < count,
                          let merge = mergeTable.merge(symbols[position], symbols[right]), merge.id == top.id else { continue }
                    symbols[position] = merge.id
                    links[right].alive = false
                    let after = links[right].next
                    links[position].next = after
                    if after < count { links[after].previous = position }
                    let before = links[position].previous
                    if before >= 0, let left = mergeTable.merge(symbols[before], merge.id) {
                        queue.push(rank: left.rank, position: before, id: left.id)
                    }
                    if after < count, let next = mergeTable.merge(merge.id, symbols[after]) {
                        queue.push(rank: next.rank, position: position, id: next.id)
                    }
                }
                var kept = 0
                for i in 0..<count where links[i].alive {
                    symbols[kept] = symbols[i]
                    kept += 1
                }
                return kept
            }
        }
    }
}

/// A symbol's neighbours in the merge loop.
private struct Link {
    var previous: Int
    var next: Int
    var alive: Bool
}

/// A binary min-heap of candidate merges ordered by rank, then position, in caller-provided storage.
private struct MergeQueue {
    struct Candidate {
        var rank: UInt32
        var position: Int
        var id: Int32

        @inline(__always)
        func precedes(_ other: Candidate) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private let heap: UnsafeMutableBufferPointer<Candidate>
    private var count = 0

    init(storage: UnsafeMutableBufferPointer<Candidate>) { heap = storage }

    mutating func push(rank: UInt32, position: Int, id: Int32) {
        var child = count
        heap[child] = Candidate(rank: rank, position: position, id: id)
        count += 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard count > 0 else { return nil }
        let first = heap[0]
        count -= 1
        heap[0] = heap[count]
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && heap[right].precedes(heap[left]) ? right : left
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            parent = child
        }
        return first
    }
}

extension BPEModel: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, dropout, vocab, merges
        case unknownToken = "unk_token"
        case continuingSubwordPrefix = "continuing_subword_prefix"
        case endOfWordSuffix = "end_of_word_suffix"
        case fuseUnknown = "fuse_unk"
        case byteFallback = "byte_fallback"
        case ignoreMerges = "ignore_merges"
    }

    /// Reads Hugging Face's BPE model; merges may be `["a", "b"]` pairs or `"a b"` strings. Options that
    /// byte-level tokenizers never use (dropout, subword prefix/suffix, byte fallback) are errors if set.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let file = TokenizerJSON.file(of: decoder)
        let type = try container.decodeIfPresent(String.self, forKey: .type) ?? "BPE"
        guard type == "BPE" else { throw TokenizerJSON.unsupported(decoder, type: type) }
        if let dropout = try container.decodeIfPresent(Double.self, forKey: .dropout), dropout > 0 {
            throw TokenizerError.unsupportedOption(file: file, field: "model.dropout", value: "\(dropout)")
        }
        for key in [CodingKeys.continuingSubwordPrefix, .endOfWordSuffix] {
            if let value = try container.decodeIfPresent(String.self, forKey: key), !value.isEmpty {
                throw TokenizerError.unsupportedOption(file: file, field: "model.\(key.rawValue)", value: "'\(value)'")
            }
        }
        if try container.decodeIfPresent(Bool.self, forKey: .byteFallback) == true {
            throw TokenizerError.unsupportedOption(file: file, field: "model.byte_fallback", value: "true")
        }
        let options = Options(ignoreMerges: try container.decodeIfPresent(Bool.self, forKey: .ignoreMerges) ?? false,
                              unknownToken: try container.decodeIfPresent(String.self, forKey: .unknownToken),
                              fuseUnknown: try container.decodeIfPresent(Bool.self, forKey: .fuseUnknown) ?? false)
        let vocab = try container.decode([String: Int].self, forKey: .vocab)
        try self.init(vocab: vocab, merges: try Self.decodeMerges(container, file: file), options: options, file: file)
    }

    private static func decodeMerges(_ container: KeyedDecodingContainer<CodingKeys>, file: String) throws -> [(String, String)] {
        if let pairs = try? container.decode([[String]].self, forKey: .merges) {
            return try pairs.enumerated().map { index, pair in
                guard pair.count == 2 else {
                    throw TokenizerError.malformed(file: file, field: "model.merges[\(index)]", reason: "expected 2 tokens, found \(pair.count)")
                }
                return (pair[0], pair[1])
            }
        }
        let lines = try container.decode([String].self, forKey: .merges).filter { !$0.hasPrefix("#version") }
        return try lines.enumerated().map { index, line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.malformed(file: file, field: "model.merges[\(index)]", reason: "expected 'a b', found '\(line)'")
            }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// Writes the model as Hugging Face reads it (merges as pairs).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("BPE", forKey: .type)
        try container.encodeNil(forKey: .dropout)
        try container.encode(options.unknownToken, forKey: .unknownToken)
        try container.encodeNil(forKey: .continuingSubwordPrefix)
        try container.encodeNil(forKey: .endOfWordSuffix)
        try container.encode(options.fuseUnknown, forKey: .fuseUnknown)
        try container.encode(false, forKey: .byteFallback)
        try container.encode(options.ignoreMerges, forKey: .ignoreMerges)
        try container.encode(vocab, forKey: .vocab)
        try container.encode(merges.map { [$0.0, $0.1] }, forKey: .merges)
    }
}
