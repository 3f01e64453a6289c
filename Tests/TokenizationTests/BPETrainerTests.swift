import Foundation
import XCTest
@testable import Tokenization

final class BPETrainerTests: XCTestCase {
    let corpus = (0..<300).map { i in "<think>\(i * 7 % 1000)+\(i * 13 % 1000)</think> <answer>\(i * 20 % 2000)</answer> the sum is ready" }
        + ["Unicode: héllo wörld 你好 🙂", "  spaces\n\nnewlines\ttabs"]

    func trained(_ size: Int) throws -> Tokenizer {
        try BPETrainer(vocabSize: size, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
            .train(corpus, config: TokenizerConfig(bosToken: nil, eosToken: "<|endoftext|>", padToken: "<|endoftext|>"))
    }

    func testTrainsToTheRequestedSizeAndRoundTrips() throws {
        let tok = try trained(320)
        XCTAssertEqual(tok.vocabSize, 320)
        XCTAssertEqual(tok.id(for: "<|endoftext|>"), 0)
        XCTAssertEqual(tok.eosTokenID, 0)
        for text in corpus.prefix(5) + ["never seen: ÿ 999+1=1000 ✓", "<|im_start|>user\n1+1<|im_end|>"] {
            let ids = try tok.encode(text, addSpecialTokens: false)
            XCTAssertEqual(tok.decode(ids), text)
        }
        // Merges compress: frequent task text takes far fewer tokens than bytes.
        let sample = corpus[17]
        XCTAssertLessThan(try tok.encode(sample, addSpecialTokens: false).count, sample.utf8.count / 2)
        // Special tokens stay whole; digits stay single (the SmolLM2 pre-tokenizer).
        XCTAssertEqual(try tok.encode("<|im_end|>", addSpecialTokens: false), [2])
        XCTAssertEqual(try tok.encode("123", addSpecialTokens: false).count, 3)
    }

    func testSavedFileReloadsIdentically() throws {
        let tok = try trained(300)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try tok.save(to: dir)
        let reloaded = try Tokenizer(url: dir)
        for text in corpus.suffix(3) {
            XCTAssertEqual(try reloaded.encode(text, addSpecialTokens: false), try tok.encode(text, addSpecialTokens: false))
        }
    }

    /// Non-special added tokens (`<think>` ...) take the ids after the specials, stay whole in the
    /// text they appear in, survive `skipSpecialTokens` decoding and reload from the saved file.
    func testAddedTokensStayWholeAndAreText() throws {
        let tags = ["<think>", "</think>", "<answer>", "</answer>"]
        let tok = try BPETrainer(vocabSize: 300, specialTokens: ["<|endoftext|>"], addedTokens: tags)
            .train(corpus, config: TokenizerConfig(bosToken: nil, eosToken: "<|endoftext|>", padToken: "<|endoftext|>"))
        XCTAssertEqual(tags.map { tok.id(for: $0) }, [1, 2, 3, 4])
        let text = "<think>7+2=9</think><answer>9</answer><|endoftext|>"
        let ids = try tok.encode(text, addSpecialTokens: false)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.filter { (1...4).contains($0) }, [1, 2, 3, 4])
        XCTAssertEqual(tok.decode(ids), text)
        XCTAssertEqual(tok.decode(ids, skipSpecialTokens: true), "<think>7+2=9</think><answer>9</answer>")
        // No merge learned across or into a tag: the corpus never shows the tags as bytes.
        XCTAssertEqual(tok.model.vocab.keys.filter { $0.contains("think") }.sorted(), ["</think>", "<think>"])

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try tok.save(to: dir)
        let reloaded = try Tokenizer(url: dir)
        XCTAssertEqual(try reloaded.encode(text, addSpecialTokens: false), ids)
        XCTAssertEqual(reloaded.decode(ids, skipSpecialTokens: true), "<think>7+2=9</think><answer>9</answer>")

        XCTAssertThrowsError(try BPETrainer(vocabSize: 300, specialTokens: ["<a>"], addedTokens: ["<a>"]).train(corpus)) {
            XCTAssertTrue("\($0)".contains("distinct"), "\($0)")
        }
    }

    func testTooSmallAVocabularyIsAnError() {
        XCTAssertThrowsError(try BPETrainer(vocabSize: 100).train(["abc"])) { XCTAssertTrue("\($0)".contains("vocab_size")) }
    }
}
