import Foundation

/// Options shared by the ByteLevel pre-tokenizer, post-processor and decoder of tokenizer.json.
public struct ByteLevelOptions: Sendable, Equatable, Codable {
    /// Pre-tokenizer: put a space before each piece of text that does not start with one.
    public var addPrefixSpace: Bool
    /// Post-processor: trims offsets (offsets are not computed here; kept for writing the file back).
    public var trimOffsets: Bool
    /// Pre-tokenizer: split with GPT-2's regex first.
    public var useRegex: Bool

    public init(addPrefixSpace: Bool = false, trimOffsets: Bool = true, useRegex: Bool = true) {
        self.addPrefixSpace = addPrefixSpace
        self.trimOffsets = trimOffsets
        self.useRegex = useRegex
    }

    private enum CodingKeys: String, CodingKey {
        case addPrefixSpace = "add_prefix_space", trimOffsets = "trim_offsets", useRegex = "use_regex"
    }

    /// Missing fields take Hugging Face's defaults (all true).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        addPrefixSpace = try container.decodeIfPresent(Bool.self, forKey: .addPrefixSpace) ?? true
        trimOffsets = try container.decodeIfPresent(Bool.self, forKey: .trimOffsets) ?? true
        useRegex = try container.decodeIfPresent(Bool.self, forKey: .useRegex) ?? true
    }
}

/// The `pre_tokenizer` of tokenizer.json: splits text into the pieces BPE encodes one by one.
/// Cases are keyed by the file's `"type"`.
public indirect enum PreTokenizer: Sendable, Equatable, Codable {
    /// Maps bytes to GPT-2's byte-level characters, optionally splitting with GPT-2's regex first.
    case byteLevel(ByteLevelOptions)
    /// Splits on a regex or string.
    case split(pattern: SplitPattern, behavior: SplitBehavior, invert: Bool)
    /// Splits numbers from the rest; `individualDigits` makes each digit its own piece.
    case digits(individualDigits: Bool)
    /// Applies each pre-tokenizer to every piece of the one before.
    case sequence([PreTokenizer])

    /// GPT-2 (and GPT-2-style models such as Phi-2): ByteLevel with its regex.
    public static let gpt2 = PreTokenizer.byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: true, useRegex: true))
    /// Llama 3: Split with Llama 3's regex, then ByteLevel without a regex.
    public static let llama3 = PreTokenizer.sequence([
        .split(pattern: .llama3, behavior: .isolated, invert: false),
        .byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: true, useRegex: false)),
    ])
    /// Qwen2, Qwen2.5, Qwen3: Split with Qwen2's regex, then ByteLevel without a regex.
    public static let qwen2 = PreTokenizer.sequence([
        .split(pattern: .qwen2, behavior: .isolated, invert: false),
        .byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: false, useRegex: false)),
    ])
    /// SmolLM / SmolLM2 (StarCoder style): single digits, then ByteLevel with GPT-2's regex.
    public static let smolLM2 = PreTokenizer.sequence([
        .digits(individualDigits: true),
        .byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: true, useRegex: true)),
    ])

    /// The pieces of `text`, spelled as Hugging Face's `pre_tokenize_str` returns them (byte-level
    /// characters after a ByteLevel stage).
    public func pieces(of text: String) throws -> [String] {
        try PreTokenizerPipeline(self).pieces(of: text)
    }

    /// Whether some stage is ByteLevel (then the BPE vocabulary is written in byte-level characters).
    var containsByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .split, .digits: return false
        case .sequence(let stages): return stages.contains { $0.containsByteLevel }
        }
    }

    /// The stages in order, with nested sequences flattened.
    var stages: [PreTokenizer] {
        if case .sequence(let stages) = self { return stages.flatMap(\.stages) }
        return [self]
    }

    private enum CodingKeys: String, CodingKey {
        case type, pattern, behavior, invert, pretokenizers
        case individualDigits = "individual_digits"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel":
            self = .byteLevel(try ByteLevelOptions(from: decoder))
        case "Split":
            self = .split(pattern: try container.decode(SplitPattern.self, forKey: .pattern),
                          behavior: try container.decode(SplitBehavior.self, forKey: .behavior),
                          invert: try container.decodeIfPresent(Bool.self, forKey: .invert) ?? false)
        case "Digits":
            self = .digits(individualDigits: try container.decodeIfPresent(Bool.self, forKey: .individualDigits) ?? false)
        case "Sequence":
            self = .sequence(try container.decode([PreTokenizer].self, forKey: .pretokenizers))
        default:
            throw TokenizerJSON.unsupported(decoder, type: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .byteLevel(let options):
            try container.encode("ByteLevel", forKey: .type)
            try options.encode(to: encoder)
        case .split(let pattern, let behavior, let invert):
            try container.encode("Split", forKey: .type)
            try container.encode(pattern, forKey: .pattern)
            try container.encode(behavior, forKey: .behavior)
            try container.encode(invert, forKey: .invert)
        case .digits(let individualDigits):
            try container.encode("Digits", forKey: .type)
            try container.encode(individualDigits, forKey: .individualDigits)
        case .sequence(let stages):
            try container.encode("Sequence", forKey: .type)
            try container.encode(stages, forKey: .pretokenizers)
        }
    }
}

/// A `PreTokenizer` compiled for encoding: its stages in order, each handing its non-empty pieces to
/// the next, with no copies except where a stage changes the text.
///
/// Pieces leave the pipeline as raw UTF-8 bytes even after a final ByteLevel stage (the BPE model
/// maps bytes to byte-level ids directly). If stages follow a ByteLevel stage, they see byte-level
/// characters, as in Hugging Face, and the pipeline maps the final pieces back to bytes.
struct PreTokenizerPipeline: Sendable {
    private enum Stage: Sendable {
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool, spellsOutput: Bool)
        case split(PatternMatcher, SplitBehavior, invert: Bool)
    }

    private let stages: [Stage]
    /// Whether pieces are bytes for byte-level BPE.
    let isByteLevel: Bool
    /// Whether pieces are spelled in byte-level characters when they reach the end.
    private let endsSpelled: Bool

    /// Compiles the stages; `file` names the tokenizer in errors (an invalid regex, two ByteLevel stages).
    init(_ preTokenizer: PreTokenizer?, file: String = "tokenizer.json", handWrittenPatterns: Bool = true) throws {
        let specs = preTokenizer?.stages ?? []
        guard specs.filter({ if case .byteLevel = $0 { return true } else { return false } }).count <= 1 else {
            throw TokenizerError.unsupported(file: file, component: "pre_tokenizer", type: "Sequence with two ByteLevel stages")
        }
        var stages: [Stage] = []
        for (index, spec) in specs.enumerated() {
            switch spec {
            case .byteLevel(let options):
                stages.append(.byteLevel(addPrefixSpace: options.addPrefixSpace, useRegex: options.useRegex,
                                         spellsOutput: index < specs.count - 1))
            case .split(let pattern, let behavior, let invert):
                do {
                    stages.append(.split(try PatternMatcher(pattern, handWritten: handWrittenPatterns), behavior, invert: invert))
                } catch {
                    throw TokenizerError.malformed(file: file, field: "pre_tokenizer", reason: "invalid regex \(pattern): \(error.localizedDescription)")
                }
            case .digits(let individual):
                stages.append(.split(.numbers, individual ? .isolated : .contiguous, invert: false))
            case .sequence:
                break  // flattened by `stages`
            }
        }
        self.stages = stages
        isByteLevel = preTokenizer?.containsByteLevel ?? false
        if case .byteLevel = specs.last { endsSpelled = false } else { endsSpelled = isByteLevel }
    }

    /// The pieces of `text` as strings (see `PreTokenizer.pieces(of:)`).
    func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var text = text
        text.withUTF8 { bytes in
            guard !bytes.isEmpty else { return }
            forEachPiece(of: bytes) { piece in
                pieces.append(isByteLevel ? ByteLevel.string(piece) : String(decoding: piece, as: UTF8.self))
            }
        }
        return pieces
    }

    /// Calls `body` with each non-empty piece of `text` (which must be non-empty).
    func forEachPiece(of text: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        run(stage: 0, text, body)
    }

    private func run(stage index: Int, _ piece: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard index < stages.count else {
            if endsSpelled {
                var bytes: [UInt8] = []
                ByteLevel.appendBytes(spelledBy: piece, to: &bytes)
                bytes.withUnsafeBufferPointer(body)
            } else {
                body(piece)
            }
            return
        }
        func next(_ sub: UnsafeBufferPointer<UInt8>) {
            if !sub.isEmpty { run(stage: index + 1, sub, body) }
        }
        switch stages[index] {
        case .split(let matcher, let behavior, let invert):
            split(piece, matcher, behavior: behavior, invert: invert, next)
        case .byteLevel(let addPrefixSpace, let useRegex, let spellsOutput):
            if addPrefixSpace, piece[0] != 0x20 {
                var prefixed: [UInt8] = [0x20]
                prefixed.append(contentsOf: piece)
                prefixed.withUnsafeBufferPointer { byteLevel($0, useRegex: useRegex, spellsOutput: spellsOutput, next) }
            } else {
                byteLevel(piece, useRegex: useRegex, spellsOutput: spellsOutput, next)
            }
        }
    }

    /// The ByteLevel stage after the prefix space: GPT-2's regex (isolated), then the spelling in
    /// byte-level characters if later stages need to see it.
    private func byteLevel(_ piece: UnsafeBufferPointer<UInt8>, useRegex: Bool, spellsOutput: Bool,
                           _ next: (UnsafeBufferPointer<UInt8>) -> Void) {
        func emit(_ sub: UnsafeBufferPointer<UInt8>) {
            guard spellsOutput else { return next(sub) }
            var spelled: [UInt8] = []
            ByteLevel.appendUTF8(of: sub, to: &spelled)
            spelled.withUnsafeBufferPointer(next)
        }
        if useRegex {
            PatternMatcher.gpt2.forEachMatch(in: piece) { emit(piece.slice($0)) }
        } else {
            emit(piece)
        }
    }

    /// Hands the pieces of a Split to `next`: streamed for isolated and removed matches (the common
    /// cases), through `SplitBehavior.pieces` for the merging behaviours.
    private func split(_ piece: UnsafeBufferPointer<UInt8>, _ matcher: PatternMatcher, behavior: SplitBehavior,
                       invert: Bool, _ next: (UnsafeBufferPointer<UInt8>) -> Void) {
        switch behavior {
        case .isolated:
            matcher.forEachSegment(in: piece) { next(piece.slice($0.range)) }
        case .removed:
            matcher.forEachSegment(in: piece) { if $0.isMatch == invert { next(piece.slice($0.range)) } }
        case .mergedWithPrevious, .mergedWithNext, .contiguous:
            var segments: [TextSegment] = []
            matcher.forEachSegment(in: piece) { segments.append(TextSegment(range: $0.range, isMatch: $0.isMatch != invert)) }
            for range in behavior.pieces(of: segments) { next(piece.slice(range)) }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes in `range`, as a buffer of their own (no copy).
    @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[range])
    }
}
