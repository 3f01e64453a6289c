/// The `post_processor` of tokenizer.json: adds special tokens around an encoding when
/// `encode(_:addSpecialTokens: true)`. Cases are keyed by the file's `"type"`.
public indirect enum PostProcessor: Sendable, Equatable, Codable {
    /// Only trims offsets, which are not computed here: leaves ids unchanged.
    case byteLevel(ByteLevelOptions)
    /// Puts the sequence into a template of special tokens (Llama 3 adds `<|begin_of_text|>` this way).
    case template(TemplateProcessing)
    /// Applies each processor in turn.
    case sequence([PostProcessor])

    /// The ids of one sequence with the template's special tokens added.
    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .byteLevel: return ids
        case .template(let template): return template.apply(to: ids)
        case .sequence(let processors): return processors.reduce(ids) { $1.process($0) }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type, processors
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel": self = .byteLevel(try ByteLevelOptions(from: decoder))
        case "TemplateProcessing": self = .template(try TemplateProcessing(from: decoder))
        case "Sequence": self = .sequence(try container.decode([PostProcessor].self, forKey: .processors))
        default: throw TokenizerJSON.unsupported(decoder, type: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .byteLevel(let options):
            try container.encode("ByteLevel", forKey: .type)
            try options.encode(to: encoder)
        case .template(let template):
            try container.encode("TemplateProcessing", forKey: .type)
            try template.encode(to: encoder)
        case .sequence(let processors):
            try container.encode("Sequence", forKey: .type)
            try container.encode(processors, forKey: .processors)
        }
    }
}

/// Hugging Face's TemplateProcessing: templates for one sequence (`single`) and for a pair, made of
/// the sequence itself ("$A", "$B") and named special tokens.
public struct TemplateProcessing: Sendable, Equatable, Codable {
    /// One element of a template.
    public enum Piece: Sendable, Equatable {
        /// The input sequence: id "A" (first) or "B" (second of a pair).
        case sequence(id: String, typeID: Int)
        /// The special token named `id` in `specialTokens`.
        case specialToken(id: String, typeID: Int)
    }

    /// A named special token and the ids (and token strings) it stands for.
    public struct SpecialToken: Sendable, Equatable, Codable {
        public var id: String
        public var ids: [Int]
        public var tokens: [String]

        public init(id: String, ids: [Int], tokens: [String]) {
            self.id = id
            self.ids = ids
            self.tokens = tokens
        }
    }

    public var single: [Piece]
    public var pair: [Piece]
    public var specialTokens: [String: SpecialToken]

    public init(single: [Piece], pair: [Piece], specialTokens: [String: SpecialToken]) {
        self.single = single
        self.pair = pair
        self.specialTokens = specialTokens
    }

    /// The template `prefix $A suffix` for single sequences (and `prefix $A suffix prefix $B suffix` for
    /// pairs), e.g. `prefix: [("<|begin_of_text|>", 128000)]` for Llama 3.
    public init(prefix: [(token: String, id: Int)], suffix: [(token: String, id: Int)] = []) {
        let special = { (entries: [(token: String, id: Int)], typeID: Int) in
            entries.map { Piece.specialToken(id: $0.token, typeID: typeID) }
        }
        single = special(prefix, 0) + [.sequence(id: "A", typeID: 0)] + special(suffix, 0)
        pair = single + special(prefix, 1) + [.sequence(id: "B", typeID: 1)] + special(suffix, 1)
        var tokens: [String: SpecialToken] = [:]
        for (token, id) in prefix + suffix { tokens[token] = SpecialToken(id: token, ids: [id], tokens: [token]) }
        specialTokens = tokens
    }

    /// The `single` template filled with `ids`.
    func apply(to ids: [Int]) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(ids.count + single.count)
        for piece in single {
            switch piece {
            case .sequence: out += ids
            case .specialToken(let id, _): out += specialTokens[id]?.ids ?? []
            }
        }
        return out
    }

    private enum CodingKeys: String, CodingKey {
        case single, pair
        case specialTokens = "special_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        single = try container.decode([Piece].self, forKey: .single)
        pair = try container.decodeIfPresent([Piece].self, forKey: .pair) ?? []
        specialTokens = try container.decodeIfPresent([String: SpecialToken].self, forKey: .specialTokens) ?? [:]
        for case .specialToken(let id, _) in single + pair where specialTokens[id] == nil {
            throw TokenizerJSON.malformed(decoder, field: "special_tokens", "template uses '\(id)', which is not listed")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(single, forKey: .single)
        try container.encode(pair, forKey: .pair)
        var tokens = container.nestedContainer(keyedBy: AnyKey.self, forKey: .specialTokens)
        for name in specialTokens.keys.sorted() {
            if let token = specialTokens[name] { try tokens.encode(token, forKey: AnyKey(name)) }
        }
    }
}

extension TemplateProcessing.Piece: Codable {
    private enum Kind: String, CodingKey {
        case sequence = "Sequence"
        case specialToken = "SpecialToken"
    }

    private enum Field: String, CodingKey {
        case id
        case typeID = "type_id"
    }

    /// `{"Sequence": {"id": "A", "type_id": 0}}` or `{"SpecialToken": {"id": "<s>", "type_id": 0}}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Kind.self)
        guard let kind = container.allKeys.first else {
            throw TokenizerJSON.malformed(decoder, field: "Sequence", "expected a Sequence or SpecialToken piece")
        }
        let fields = try container.nestedContainer(keyedBy: Field.self, forKey: kind)
        let id = try fields.decode(String.self, forKey: .id)
        let typeID = try fields.decodeIfPresent(Int.self, forKey: .typeID) ?? 0
        self = kind == .sequence ? .sequence(id: id, typeID: typeID) : .specialToken(id: id, typeID: typeID)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Kind.self)
        let (kind, id, typeID): (Kind, String, Int) = switch self {
        case .sequence(let id, let typeID): (.sequence, id, typeID)
        case .specialToken(let id, let typeID): (.specialToken, id, typeID)
        }
        var fields = container.nestedContainer(keyedBy: Field.self, forKey: kind)
        try fields.encode(id, forKey: .id)
        try fields.encode(typeID, forKey: .typeID)
    }
}
