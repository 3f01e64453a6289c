import Foundation
import Tokenization
import XCTest

/// Tokenizers built in memory and written back with `jsonData()`: reloading gives the same encodings.
/// With TOKENIZATION_EXPORT_DIR set, the written folders are kept there for
/// `python3 Scripts/make_tokenizer_fixtures.py --verify-export DIR`, which checks that Hugging Face
/// `tokenizers` and transformers' AutoTokenizer load them and agree with the goldens.
final class TokenizerWritingTests: XCTestCase {
    func testWrittenFixturesReloadWithTheSameEncodings() throws {
        let exportDirectory = ProcessInfo.processInfo.environment["TOKENIZATION_EXPORT_DIR"].map { URL(fileURLWithPath: $0) }
        for name in TokenizerFixtures.names {
            let original = try TokenizerFixtures.tokenizer(name)
            let reloaded = try Tokenizer(data: try original.jsonData(), configData: try original.configJSONData())
            XCTAssertEqual(reloaded.addedTokens, original.addedTokens, name)
            XCTAssertEqual(reloaded.model.vocab, original.model.vocab, name)
            XCTAssertEqual(reloaded.model.merges.map { [$0.0, $0.1] }, original.model.merges.map { [$0.0, $0.1] }, name)
            XCTAssertEqual(reloaded.preTokenizer, original.preTokenizer, name)
            XCTAssertEqual(reloaded.postProcessor, original.postProcessor, name)
            XCTAssertEqual(reloaded.config, original.config, name)
            let differences = try TokenizerFixtures.golden(name).differences(reloaded, name: name)
            XCTAssert(differences.isEmpty, differences.prefix(5).joined(separator: "\n"))
            if let exportDirectory {
                let folder = exportDirectory.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try reloaded.save(to: folder)
            }
        }
    }

    func testWritingIsDeterministic() throws {
        let data = try TokenizerFixtures.tokenizer("gpt2").jsonData()
        XCTAssertEqual(data, try TokenizerFixtures.tokenizer("gpt2").jsonData())
        let json = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(json.hasPrefix(#"{"added_tokens":[{"content":"<|endoftext|>","id":0,"#), String(json.prefix(80)))
        XCTAssertTrue(json.hasSuffix(#""truncation":null,"version":"1.0"}"#), String(json.suffix(80)))
    }

    /// A hand-made byte-level BPE: the merges apply lowest rank first, leftmost first.
    func testInMemoryTokenizer() throws {
        var vocab: [String: Int] = [:]
        for (id, byte) in (0..<256).enumerated() { vocab[String(ByteLevelAlphabet.character(UInt8(byte)))] = id }
        let merges = [("l", "l"), ("h", "e"), ("he", "ll"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("hell", "o")]
        for (left, right) in merges { vocab[left + right] = vocab.count }
        let eos = AddedToken(id: vocab.count, content: "<|end|>")
        let tokenizer = try Tokenizer(vocab: vocab, merges: merges, addedTokens: [eos],
                                      postProcessor: .template(TemplateProcessing(prefix: [], suffix: [("<|end|>", eos.id)])),
                                      config: TokenizerConfig(eosToken: "<|end|>"))
        let ids = try tokenizer.encode("hello world", addSpecialTokens: true)
        XCTAssertEqual(ids.map { tokenizer.token(for: $0) ?? "?" }, ["hello", "Ġwor", "l", "d", "<|end|>"])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "hello world")
        XCTAssertEqual(tokenizer.eosTokenID, eos.id)
        XCTAssertEqual(tokenizer.vocabSize, eos.id + 1)

        let reloaded = try Tokenizer(data: try tokenizer.jsonData(), configData: try tokenizer.configJSONData())
        XCTAssertEqual(try reloaded.encode("hello world, hello there", addSpecialTokens: true),
                       try tokenizer.encode("hello world, hello there", addSpecialTokens: true))
        XCTAssertEqual(reloaded.eosTokenID, eos.id)
    }

    func testIgnoreMergesTakesWholeWordsFromTheVocabulary() throws {
        var vocab: [String: Int] = [:]
        for byte in 0..<256 { vocab[String(ByteLevelAlphabet.character(UInt8(byte)))] = byte }
        vocab["abc"] = 256  // reachable by no merge
        let plain = try Tokenizer(vocab: vocab, merges: [], preTokenizer: .llama3)
        let ignoring = try Tokenizer(vocab: vocab, merges: [], preTokenizer: .llama3, options: BPEModel.Options(ignoreMerges: true))
        XCTAssertEqual(try plain.encode("abc", addSpecialTokens: false), [97, 98, 99])
        XCTAssertEqual(try ignoring.encode("abc", addSpecialTokens: false), [256])
    }
}

/// GPT-2's byte-to-character table, written out independently of the module's for these tests.
enum ByteLevelAlphabet {
    static func character(_ byte: UInt8) -> Character {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        if printable { return Character(Unicode.Scalar(byte)) }
        let rank = (0..<Int(byte)).filter { b in !((0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)) }.count
        return Character(Unicode.Scalar(UInt32(0x100 + rank)) ?? "?")
    }
}
