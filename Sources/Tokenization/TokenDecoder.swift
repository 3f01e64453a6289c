/// The `decoder` of tokenizer.json: turns token strings back into text. Cases are keyed by the
/// file's `"type"`. (Named `TokenDecoder` so it does not hide Swift's `Decoder` protocol.)
public indirect enum TokenDecoder: Sendable, Equatable, Codable {
    /// Byte-level characters back to bytes, then UTF-8 (invalid sequences become U+FFFD).
    case byteLevel(ByteLevelOptions)
    /// Each decoder in turn over the token strings.
    case sequence([TokenDecoder])

    /// The text of the tokens.
    public func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    /// Hugging Face's `decode_chain`: token strings in, strings out (ByteLevel returns just one).
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes += ByteLevel.bytes(ofToken: token) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .sequence(let decoders):
            return decoders.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type, decoders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "ByteLevel": self = .byteLevel(try ByteLevelOptions(from: decoder))
        case "Sequence": self = .sequence(try container.decode([TokenDecoder].self, forKey: .decoders))
        default: throw TokenizerJSON.unsupported(decoder, type: type)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .byteLevel(let options):
            try container.encode("ByteLevel", forKey: .type)
            try options.encode(to: encoder)
        case .sequence(let decoders):
            try container.encode("Sequence", forKey: .type)
            try container.encode(decoders, forKey: .decoders)
        }
    }
}
