import Foundation

/// A byte-level BPE tokenizer as described by a Hugging Face tokenizer.json (GPT-2, Llama 3, Qwen2/2.5/3,
/// SmolLM2), encoding and decoding exactly as the `tokenizers` library does.
///
/// Encoding: added tokens are found in the raw text first; the text between them is normalized,
/// searched again for normalized added tokens, pre-tokenized into words, and each word is BPE-encoded
/// (results are cached per word); the post-processor then adds bos/eos if asked.
/// A `Tokenizer` is immutable apart from its word cache and can be shared between threads.
public final class Tokenizer: Sendable {
    public let model: BPEModel
    public let addedTokens: [AddedToken]
    public let normalizer: Normalizer?
    public let preTokenizer: PreTokenizer?
    public let postProcessor: PostProcessor?
    public let decoder: TokenDecoder?
    public let config: TokenizerConfig

    /// One more than the largest id of the vocabulary and added tokens.
    public let vocabSize: Int
    /// Ids of the added tokens marked special.
    public let specialTokenIDs: Set<Int>
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public var chatTemplate: String? { config.chatTemplate }

    private let pipeline: PreTokenizerPipeline
    private let rawTokens: AddedTokenMatcher
    private let normalizedTokens: AddedTokenMatcher
    /// Token string of each added token's id: its content, normalized for normalized tokens (as
    /// Hugging Face's `id_to_token`, so the decoder sees what encoding matched).
    private let addedStrings: [Int: String]
    private let addedByContent: [String: Int]
    private let specialContents: Set<String>

    /// Builds a tokenizer from its parts; `file` names the source in errors. An added token whose
    /// content is in the vocabulary takes the vocabulary's id, as in Hugging Face.
    public init(model: BPEModel, addedTokens: [AddedToken] = [], normalizer: Normalizer? = nil,
                preTokenizer: PreTokenizer?, postProcessor: PostProcessor? = nil, decoder: TokenDecoder?,
                config: TokenizerConfig = TokenizerConfig(), file: String = "in-memory tokenizer") throws {
        let addedTokens = addedTokens.map { token in
            var token = token
            token.id = model.vocab[token.content] ?? token.id
            return token
        }
        for (index, token) in addedTokens.enumerated() where !BPEModel.validIDs.contains(token.id) {
            throw TokenizerError.malformed(file: file, field: "added_tokens[\(index)].id", reason: "\(token.id), expected \(BPEModel.validIDs)")
        }
        self.model = model
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.config = config
        pipeline = try PreTokenizerPipeline(preTokenizer, file: file)
        rawTokens = AddedTokenMatcher(addedTokens.filter { !$0.normalized }.map { ($0.content, $0) })
        normalizedTokens = AddedTokenMatcher(addedTokens.filter(\.normalized).map {
            (normalizer?.normalize($0.content) ?? $0.content, $0)
        })
        addedStrings = Dictionary(addedTokens.map { token in
            (token.id, token.normalized ? normalizer?.normalize(token.content) ?? token.content : token.content)
        }, uniquingKeysWith: { _, last in last })
        let addedByContent = Dictionary(addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { _, last in last })
        self.addedByContent = addedByContent
        specialContents = Set(addedTokens.filter(\.special).map(\.content))
        specialTokenIDs = Set(addedTokens.filter(\.special).map(\.id))
        vocabSize = max(model.tokens.count, (addedTokens.map(\.id).max() ?? -1) + 1)
        let idOf = { (token: String?) in token.flatMap { addedByContent[$0] ?? model.vocab[$0] } }
        bosTokenID = idOf(config.bosToken)
        eosTokenID = idOf(config.eosToken)
    }

    /// Builds a tokenizer in memory from a vocabulary and merges (for GGUF files and trained tokenizers).
    public convenience init(vocab: [String: Int], merges: [(String, String)], addedTokens: [AddedToken] = [],
                            normalizer: Normalizer? = nil, preTokenizer: PreTokenizer? = .gpt2,
                            postProcessor: PostProcessor? = .byteLevel(ByteLevelOptions()),
                            decoder: TokenDecoder? = .byteLevel(ByteLevelOptions()),
                            options: BPEModel.Options = BPEModel.Options(),
                            config: TokenizerConfig = TokenizerConfig(), file: String = "in-memory tokenizer") throws {
        let model = try BPEModel(vocab: vocab, merges: merges, options: options, file: file)
        try self.init(model: model, addedTokens: addedTokens, normalizer: normalizer, preTokenizer: preTokenizer,
                      postProcessor: postProcessor, decoder: decoder, config: config, file: file)
    }

    /// Reads tokenizer.json (`file` names it in errors) and optionally tokenizer_config.json.
    public convenience init(data: Data, configData: Data? = nil, file: String = "tokenizer.json",
                            configFile: String = "tokenizer_config.json") throws {
        let config = try configData.map { try TokenizerJSON.decode(TokenizerConfig.self, from: $0, file: configFile) }
        try self.init(data: data, config: config ?? TokenizerConfig(), file: file)
    }

    /// Reads tokenizer.json (`file` names it in errors) with a given config.
    public convenience init(data: Data, config: TokenizerConfig, file: String = "tokenizer.json") throws {
        let contents = try TokenizerJSON.decode(TokenizerFile.self, from: data, file: file)
        try self.init(model: contents.model, addedTokens: contents.addedTokens, normalizer: contents.normalizer,
                      preTokenizer: contents.preTokenizer, postProcessor: contents.postProcessor,
                      decoder: contents.decoder, config: config, file: file)
    }

    /// Reads a tokenizer.json file, or the one in a model folder, with the tokenizer_config.json and
    /// chat_template.jinja beside it when present.
    public convenience init(url: URL) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let file = exists && isDirectory.boolValue ? url.appendingPathComponent("tokenizer.json") : url
        let folder = file.deletingLastPathComponent()
        func read(_ url: URL) throws -> Data {
            do { return try Data(contentsOf: url) } catch {
                throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
            }
        }
        func readIfPresent(_ name: String) throws -> (data: Data, path: String)? {
            let url = folder.appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: url.path) ? (try read(url), url.path) : nil
        }
        var config = TokenizerConfig()
        if let (data, path) = try readIfPresent("tokenizer_config.json") {
            config = try TokenizerJSON.decode(TokenizerConfig.self, from: data, file: path)
            config.chatTemplateFile = path
        }
        if let (data, path) = try readIfPresent("chat_template.jinja") {
            config.chatTemplate = String(decoding: data, as: UTF8.self)
            config.chatTemplateFile = path
        }
        try self.init(data: try read(file), config: config, file: file.path)
    }

    // MARK: - Encoding and decoding

    /// The token ids of `text`; `addSpecialTokens` applies the post-processor (e.g. Llama 3's bos).
    public func encode(_ text: String, addSpecialTokens: Bool = true) throws -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        var text = text
        text.withUTF8 { bytes in
            for segment in rawTokens.segments(in: bytes) {
                switch segment {
                case .token(let id): ids.append(id)
                case .text(let range): encodeNormalizing(bytes.slice(range), into: &ids)
                }
            }
        }
        if addSpecialTokens, let postProcessor { return postProcessor.process(ids) }
        return ids
    }

    /// Normalizes text between raw added tokens, then finds the normalized added tokens in it.
    private func encodeNormalizing(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) {
        guard let normalizer else { return encodeWords(text, into: &ids) }
        var normalized = normalizer.normalize(String(decoding: text, as: UTF8.self))
        normalized.withUTF8 { encodeWords($0, into: &ids) }
    }

    /// Pre-tokenizes text that contains no raw added tokens and BPE-encodes each word.
    private func encodeWords(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) {
        let segments: [AddedTokenMatcher.Segment] = normalizedTokens.isEmpty ? [.text(0..<text.count)] : normalizedTokens.segments(in: text)
        for segment in segments {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let range) where !range.isEmpty:
                pipeline.forEachPiece(of: text.slice(range)) { word in
                    model.appendTokens(of: word, byteLevel: pipeline.isByteLevel, to: &ids)
                }
            case .text:
                break
            }
        }
    }

    /// The text of `ids`; unknown ids are skipped, and special tokens too if `skipSpecialTokens`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(for: id) else { continue }
            if skipSpecialTokens, specialContents.contains(token) { continue }
            tokens.append(token)
        }
        return decoder?.decode(tokens) ?? tokens.joined(separator: " ")
    }

    /// The id of a token string (added tokens first, then the vocabulary).
    public func id(for token: String) -> Int? {
        addedByContent[token] ?? model.vocab[token]
    }

    /// The token string of an id (added tokens first, normalized if they are normalized tokens; then
    /// the vocabulary).
    public func token(for id: Int) -> String? {
        addedStrings[id] ?? model.token(for: id)
    }

    // MARK: - Writing

    /// tokenizer.json that Hugging Face `tokenizers` loads (keys sorted, merges as pairs).
    public func jsonData() throws -> Data {
        try TokenizerJSON.encode(TokenizerFile(addedTokens: addedTokens.sorted { $0.id < $1.id }, normalizer: normalizer,
                                               preTokenizer: preTokenizer, postProcessor: postProcessor,
                                               decoder: decoder, model: model))
    }

    /// tokenizer_config.json with the bos/eos/pad token names and the chat template.
    public func configJSONData() throws -> Data {
        try TokenizerJSON.encode(config, pretty: true)
    }

    /// Writes tokenizer.json and tokenizer_config.json into `directory` (which must exist), a folder
    /// `transformers`' AutoTokenizer loads.
    public func save(to directory: URL) throws {
        try jsonData().write(to: directory.appendingPathComponent("tokenizer.json"), options: .atomic)
        try configJSONData().write(to: directory.appendingPathComponent("tokenizer_config.json"), options: .atomic)
    }
}

/// tokenizer.json as a whole. Truncation and padding are read as absent (callers truncate and pad).
struct TokenizerFile: Codable {
    var addedTokens: [AddedToken]
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var postProcessor: PostProcessor?
    var decoder: TokenDecoder?
    var model: BPEModel

    init(addedTokens: [AddedToken], normalizer: Normalizer?, preTokenizer: PreTokenizer?,
         postProcessor: PostProcessor?, decoder: TokenDecoder?, model: BPEModel) {
        self.addedTokens = addedTokens
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.model = model
    }

    private enum CodingKeys: String, CodingKey {
        case version, truncation, padding, normalizer, decoder, model
        case addedTokens = "added_tokens", preTokenizer = "pre_tokenizer", postProcessor = "post_processor"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let version = try container.decodeIfPresent(String.self, forKey: .version), version != "1.0" {
            throw TokenizerError.unsupportedOption(file: TokenizerJSON.file(of: decoder), field: "version", value: "'\(version)'")
        }
        addedTokens = try container.decodeIfPresent([AddedToken].self, forKey: .addedTokens) ?? []
        normalizer = try container.decodeIfPresent(Normalizer.self, forKey: .normalizer)
        preTokenizer = try container.decodeIfPresent(PreTokenizer.self, forKey: .preTokenizer)
        postProcessor = try container.decodeIfPresent(PostProcessor.self, forKey: .postProcessor)
        self.decoder = try container.decodeIfPresent(TokenDecoder.self, forKey: .decoder)
        model = try container.decode(BPEModel.self, forKey: .model)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("1.0", forKey: .version)
        try container.encodeNil(forKey: .truncation)
        try container.encodeNil(forKey: .padding)
        try container.encode(addedTokens, forKey: .addedTokens)
        try container.encode(normalizer, forKey: .normalizer)
        try container.encode(preTokenizer, forKey: .preTokenizer)
        try container.encode(postProcessor, forKey: .postProcessor)
        try container.encode(decoder, forKey: .decoder)
        try container.encode(model, forKey: .model)
    }
}
