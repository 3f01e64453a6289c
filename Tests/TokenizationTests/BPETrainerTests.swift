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

    func testTooSmallAVocabularyIsAnError() {
        XCTAssertThrowsError(try BPETrainer(vocabSize: 100).train(["abc"])) { XCTAssertTrue("\($0)".contains("vocab_size")) }
    }
}
