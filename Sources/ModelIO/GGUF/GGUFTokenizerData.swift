/// The raw tokenizer fields of a GGUF file (`tokenizer.ggml.*`, `tokenizer.chat_template`), from
/// which a tokenizer can be built. Nothing is interpreted here.
///
/// For `model` "gpt2" (byte-level BPE) `tokens` are the byte-level-encoded strings of tokenizer.json's
/// vocab (id = index) and `merges` its "a b" merge rules in rank order; for "llama" (SentencePiece)
/// `scores` hold the piece scores. `tokenTypes` follow llama.cpp's enum: 1 normal, 2 unknown,
/// 3 control, 4 user-defined, 5 unused, 6 byte.
public struct GGUFTokenizerData: Equatable, Sendable {
    /// `tokenizer.ggml.model`: "gpt2", "llama", ...
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name ("smollm", "qwen2", "llama-bpe", ...).
    public var pre: String?
    public var tokens: [String]
    public var merges: [String]
    public var tokenTypes: [Int]?
    public var scores: [Float]?
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    /// `tokenizer.ggml.eot_token_id` (end of turn), when the file has one.
    public var eotTokenID: Int?
    public var unknownTokenID: Int?
    public var paddingTokenID: Int?
    public var addBOSToken: Bool?
    public var addEOSToken: Bool?
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template` (Jinja).
    public var chatTemplate: String?

    public init(model: String, pre: String? = nil, tokens: [String], merges: [String] = [], tokenTypes: [Int]? = nil,
                scores: [Float]? = nil, bosTokenID: Int? = nil, eosTokenID: Int? = nil, eotTokenID: Int? = nil,
                unknownTokenID: Int? = nil, paddingTokenID: Int? = nil, addBOSToken: Bool? = nil,
                addEOSToken: Bool? = nil, addSpacePrefix: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.eotTokenID = eotTokenID
        self.unknownTokenID = unknownTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOSToken = addBOSToken
        self.addEOSToken = addEOSToken
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }

    /// Reads the fields of `file`; `tokenizer.ggml.model` and `tokenizer.ggml.tokens` are required,
    /// per-token arrays must have one entry per token, and special token ids must be in range.
    public init(file: GGUFFile) throws {
        let k = "tokenizer.ggml."
        guard let tokens = try file.optionalStringArray(k + "tokens") else {
            throw ModelIOError.config(file: file.url.path, field: k + "tokens", reason: "missing")
        }
        self.init(model: try file.string(k + "model"), pre: try file.optionalString(k + "pre"), tokens: tokens,
                  merges: try file.optionalStringArray(k + "merges") ?? [],
                  tokenTypes: try file.optionalIntArray(k + "token_type"), scores: try file.optionalFloatArray(k + "scores"),
                  bosTokenID: try file.optionalInt(k + "bos_token_id"), eosTokenID: try file.optionalInt(k + "eos_token_id"),
                  eotTokenID: try file.optionalInt(k + "eot_token_id"), unknownTokenID: try file.optionalInt(k + "unknown_token_id"),
                  paddingTokenID: try file.optionalInt(k + "padding_token_id"),
                  addBOSToken: try file.optionalBool(k + "add_bos_token"), addEOSToken: try file.optionalBool(k + "add_eos_token"),
                  addSpacePrefix: try file.optionalBool(k + "add_space_prefix"),
                  chatTemplate: try file.optionalString("tokenizer.chat_template"))
        for (key, count) in [("token_type", tokenTypes?.count), ("scores", scores?.count)] {
            if let count, count != tokens.count {
                throw ModelIOError.config(file: file.url.path, field: k + key, reason: "\(count) entries for \(tokens.count) tokens")
            }
        }
        for (key, id) in [("bos_token_id", bosTokenID), ("eos_token_id", eosTokenID), ("eot_token_id", eotTokenID),
                          ("unknown_token_id", unknownTokenID), ("padding_token_id", paddingTokenID)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw ModelIOError.config(file: file.url.path, field: k + key, reason: "\(id) is not a token id (0..<\(tokens.count))")
            }
        }
    }
}
