import Foundation

/// Shared plumbing for reading and writing tokenizer.json: the file name carried through decoding
/// (for error messages), readable field paths, and the conversion of `DecodingError`.
enum TokenizerJSON {
    /// Holds the file name in `JSONDecoder.userInfo` so components can name it in their errors.
    static let fileKey = CodingUserInfoKey(rawValue: "Tokenization.file")

    /// The file being decoded ("tokenizer.json" when the caller gave none).
    static func file(of decoder: any Decoder) -> String {
        fileKey.flatMap { decoder.userInfo[$0] as? String } ?? "tokenizer.json"
    }

    /// A coding path as it reads in the file: `pre_tokenizer.pretokenizers[1]`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out.isEmpty ? "(root)" : out
    }

    /// The error for a component whose `"type"` this module does not implement.
    static func unsupported(_ decoder: any Decoder, type: String) -> TokenizerError {
        .unsupported(file: file(of: decoder), component: path(decoder.codingPath), type: type)
    }

    /// The error for a field of the component being decoded.
    static func malformed(_ decoder: any Decoder, field: String, _ reason: String) -> TokenizerError {
        let base = path(decoder.codingPath)
        return .malformed(file: file(of: decoder), field: base == "(root)" ? field : "\(base).\(field)", reason: reason)
    }

    /// Decodes `data`, reporting JSON and shape errors as `TokenizerError.malformed` with the field path.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let decoder = JSONDecoder()
        if let key = fileKey { decoder.userInfo[key] = file }
        do {
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw convert(error, file: file)
        }
    }

    /// Encodes with sorted keys (so the same tokenizer always gives the same bytes) and unescaped slashes.
    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    private static func convert(_ error: DecodingError, file: String) -> TokenizerError {
        switch error {
        case .keyNotFound(let key, let context):
            return .malformed(file: file, field: path(context.codingPath + [key]), reason: "missing")
        case .typeMismatch(let type, let context):
            return .malformed(file: file, field: path(context.codingPath), reason: "expected \(type)")
        case .valueNotFound(let type, let context):
            return .malformed(file: file, field: path(context.codingPath), reason: "expected \(type), found null")
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { ": \($0.localizedDescription)" } ?? ""
            return .malformed(file: file, field: path(context.codingPath), reason: context.debugDescription + underlying)
        @unknown default:
            return .malformed(file: file, field: "(root)", reason: "\(error)")
        }
    }
}

/// A coding key for any string or index: vocabulary entries, template piece names, dictionary keys.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue); self.intValue = intValue }
}
