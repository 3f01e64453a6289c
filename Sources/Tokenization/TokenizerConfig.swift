/// The parts of tokenizer_config.json this module uses: the names of the bos, eos, pad and unknown
/// tokens, and the raw chat template (rendered elsewhere).
public struct TokenizerConfig: Sendable, Equatable, Codable {
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// The Jinja chat template: tokenizer_config.json's `chat_template` (the "default" one when it is a
    /// list of named templates), or chat_template.jinja beside it, which takes precedence.
    public var chatTemplate: String?
    public var modelMaxLength: Int?
    /// The file the chat template was read from (tokenizer_config.json, chat_template.jinja or a GGUF
    /// file), which template errors name; not part of the JSON.
    public var chatTemplateFile: String?

    public init(bosToken: String? = nil, eosToken: String? = nil, padToken: String? = nil, unkToken: String? = nil,
                chatTemplate: String? = nil, modelMaxLength: Int? = nil) {
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.padToken = padToken
        self.unkToken = unkToken
        self.chatTemplate = chatTemplate
        self.modelMaxLength = modelMaxLength
    }

    /// Equal when the contents are; where the chat template was read from does not count.
    public static func == (a: TokenizerConfig, b: TokenizerConfig) -> Bool {
        (a.bosToken, a.eosToken, a.padToken, a.unkToken, a.chatTemplate, a.modelMaxLength)
            == (b.bosToken, b.eosToken, b.padToken, b.unkToken, b.chatTemplate, b.modelMaxLength)
    }

    private enum CodingKeys: String, CodingKey {
        case bosToken = "bos_token", eosToken = "eos_token", padToken = "pad_token", unkToken = "unk_token"
        case chatTemplate = "chat_template", modelMaxLength = "model_max_length"
        case tokenizerClass = "tokenizer_class", cleanUpTokenizationSpaces = "clean_up_tokenization_spaces"
    }

    /// A special token written as a string or as an AddedToken object `{"content": ...}`.
    private struct TokenName: Decodable {
        var content: String

        private enum CodingKeys: String, CodingKey { case content }

        init(from decoder: any Decoder) throws {
            if let string = try? decoder.singleValueContainer().decode(String.self) {
                content = string
            } else {
                content = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .content)
            }
        }
    }

    /// One of several named chat templates (older configs).
    private struct NamedTemplate: Decodable {
        var name: String
        var template: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        bosToken = try container.decodeIfPresent(TokenName.self, forKey: .bosToken)?.content
        eosToken = try container.decodeIfPresent(TokenName.self, forKey: .eosToken)?.content
        padToken = try container.decodeIfPresent(TokenName.self, forKey: .padToken)?.content
        unkToken = try container.decodeIfPresent(TokenName.self, forKey: .unkToken)?.content
        if let list = try? container.decodeIfPresent([NamedTemplate].self, forKey: .chatTemplate) {
            chatTemplate = (list.first { $0.name == "default" } ?? list.first)?.template
        } else {
            chatTemplate = try container.decodeIfPresent(String.self, forKey: .chatTemplate)
        }
        // Some configs say 1e30 for "no limit".
        let maxLength = try container.decodeIfPresent(Double.self, forKey: .modelMaxLength)
        if let maxLength, !(maxLength >= 0) {
            throw TokenizerJSON.malformed(decoder, field: "model_max_length", "expected a number >= 0, got \(maxLength)")
        }
        modelMaxLength = maxLength.flatMap { $0 < 1e15 ? Int($0) : nil }
    }

    /// Writes a config `transformers` loads beside tokenizer.json (as PreTrainedTokenizerFast).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("PreTrainedTokenizerFast", forKey: .tokenizerClass)
        try container.encode(bosToken, forKey: .bosToken)
        try container.encode(eosToken, forKey: .eosToken)
        try container.encodeIfPresent(padToken, forKey: .padToken)
        try container.encodeIfPresent(unkToken, forKey: .unkToken)
        try container.encode(false, forKey: .cleanUpTokenizationSpaces)
        try container.encodeIfPresent(modelMaxLength, forKey: .modelMaxLength)
        try container.encodeIfPresent(chatTemplate, forKey: .chatTemplate)
    }
}
