import Foundation
import Tokenization
import XCTest

/// The golden files written by Scripts/make_tokenizer_fixtures.py (Hugging Face `tokenizers` output).
enum TokenizerFixtures {
    /// The tokenizers trained with each real pipeline, one folder each.
    static let names = ["gpt2", "llama3", "qwen2", "smollm2", "options"]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// SmolLM2-135M's real tokenizer, rebuilt from its GGUF file by
    /// `make smollm2 && python3 Scripts/make_tokenizer_fixtures.py --smollm2-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf`
    /// (too big to commit; tests that use it skip when it is absent).
    static let realSmolLM2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/smollm2-tokenizer")

    /// The tokenizer in `Fixtures/<name>/`, with its tokenizer_config.json when there is one.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(url: directory.appendingPathComponent(name))
    }

    /// `Fixtures/<name>/golden.json`, or `golden.json` in another folder.
    static func golden(_ name: String, in folder: URL = directory) throws -> Golden {
        let data = try Data(contentsOf: folder.appendingPathComponent(name).appendingPathComponent("golden.json"))
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    /// A top-level fixture file as JSON objects.
    static func json(_ file: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file)))
    }

    /// A string with control and non-ASCII characters escaped, for failure messages.
    static func show(_ text: String) -> String {
        let escaped = text.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 ? String(scalar) : "\\u{\(String(scalar.value, radix: 16))}"
        }.joined()
        return "\"\(escaped.prefix(80))\(escaped.count > 80 ? "…" : "")\""
    }
}

/// Encodings and decodings of the tricky strings by Hugging Face `tokenizers`.
struct Golden: Decodable {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
        var idsWithSpecial: [Int]
        var decoded: String
        var decodedSkipSpecial: String

        enum CodingKeys: String, CodingKey {
            case text, ids, decoded
            case idsWithSpecial = "ids_with_special", decodedSkipSpecial = "decoded_skip_special"
        }
    }

    struct DecodeCase: Decodable {
        var ids: [Int]
        var decoded: String
        var decodedSkipSpecial: String

        enum CodingKeys: String, CodingKey {
            case ids, decoded
            case decodedSkipSpecial = "decoded_skip_special"
        }
    }

    var cases: [Case]
    var decodeCases: [DecodeCase]

    enum CodingKeys: String, CodingKey {
        case cases
        case decodeCases = "decode_cases"
    }

    /// Every difference between `tokenizer` and the golden values, one line each.
    func differences(_ tokenizer: Tokenizer, name: String) throws -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ what: String, _ text: String, _ actual: T, _ expected: T) {
            if actual != expected {
                out.append("\(name) \(what) of \(TokenizerFixtures.show(text)): got \(actual), expected \(expected)")
            }
        }
        for c in cases {
            check("ids", c.text, try tokenizer.encode(c.text, addSpecialTokens: false), c.ids)
            check("ids with special tokens", c.text, try tokenizer.encode(c.text, addSpecialTokens: true), c.idsWithSpecial)
            check("decoded", c.text, tokenizer.decode(c.ids, skipSpecialTokens: false), c.decoded)
            check("decoded skipping special", c.text, tokenizer.decode(c.ids, skipSpecialTokens: true), c.decodedSkipSpecial)
        }
        for c in decodeCases {
            check("decode", "\(c.ids)", tokenizer.decode(c.ids, skipSpecialTokens: false), c.decoded)
            check("decode skipping special", "\(c.ids)", tokenizer.decode(c.ids, skipSpecialTokens: true), c.decodedSkipSpecial)
        }
        return out
    }
}
