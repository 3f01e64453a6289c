import Foundation
import Tokenization
import XCTest

/// Each fixture tokenizer (trained with a real model's pipeline) must give Hugging Face's ids and
/// decoded text for every tricky string, with and without special tokens.
final class GoldenTokenizerTests: XCTestCase {
    func testGPT2MatchesHuggingFace() throws { try check("gpt2") }
    func testLlama3MatchesHuggingFace() throws { try check("llama3") }
    func testQwen2MatchesHuggingFace() throws { try check("qwen2") }
    func testSmolLM2MatchesHuggingFace() throws { try check("smollm2") }
    func testRareOptionsMatchHuggingFace() throws { try check("options") }

    /// The real 49,152-token SmolLM2 vocabulary, when models/smollm2-tokenizer has been written.
    func testRealSmolLM2VocabularyMatchesHuggingFace() throws {
        let folder = TokenizerFixtures.realSmolLM2
        try XCTSkipUnless(FileManager.default.fileExists(atPath: folder.path), "no \(folder.path) (see TokenizerFixtures.realSmolLM2)")
        let tokenizer = try Tokenizer(url: folder)
        XCTAssertEqual(tokenizer.vocabSize, 49152)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        let golden = try TokenizerFixtures.golden(folder.lastPathComponent, in: folder.deletingLastPathComponent())
        let differences = try golden.differences(tokenizer, name: "real smollm2")
        XCTAssert(differences.isEmpty, "\(differences.count) differences:\n" + differences.prefix(12).joined(separator: "\n"))
    }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let golden = try TokenizerFixtures.golden(name)
        XCTAssertGreaterThan(golden.cases.count, 100, "\(name): too few golden cases", file: file, line: line)
        let differences = try golden.differences(tokenizer, name: name)
        XCTAssert(differences.isEmpty, "\(differences.count) differences:\n" + differences.prefix(12).joined(separator: "\n"),
                  file: file, line: line)
    }

    func testConfigGivesSpecialTokenIDsAndTemplate() throws {
        let llama = try TokenizerFixtures.tokenizer("llama3")
        XCTAssertEqual(llama.bosTokenID, llama.id(for: "<|begin_of_text|>"))
        XCTAssertEqual(llama.eosTokenID, llama.id(for: "<|eot_id|>"))
        XCTAssertEqual(llama.config.modelMaxLength, 131072)
        XCTAssertTrue(llama.chatTemplate?.hasPrefix("{{ bos_token }}") ?? false)
        XCTAssertEqual(try llama.encode("Hi", addSpecialTokens: true).first, llama.bosTokenID)

        let qwen = try TokenizerFixtures.tokenizer("qwen2")
        XCTAssertNil(qwen.bosTokenID)
        XCTAssertEqual(qwen.eosTokenID, qwen.id(for: "<|im_end|>"))
        XCTAssertEqual(qwen.config.padToken, "<|endoftext|>")
        XCTAssertEqual(qwen.specialTokenIDs, Set(["<|endoftext|>", "<|im_start|>", "<|im_end|>"].compactMap(qwen.id(for:))))
        XCTAssertFalse(qwen.specialTokenIDs.contains(qwen.id(for: "<tool_call>") ?? -1), "<tool_call> is not special")
        XCTAssertEqual(qwen.vocabSize, 1505)

        // SmolLM2 writes its bos and eos as AddedToken objects.
        let smol = try TokenizerFixtures.tokenizer("smollm2")
        XCTAssertEqual(smol.bosTokenID, smol.id(for: "<|im_start|>"))
        XCTAssertEqual(smol.eosTokenID, smol.id(for: "<|im_end|>"))
    }

    func testTokenAndIDLookups() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("qwen2")
        for id in 0..<tokenizer.vocabSize {
            guard let token = tokenizer.token(for: id) else { return XCTFail("id \(id) has no token") }
            XCTAssertEqual(tokenizer.id(for: token), id, token)
        }
        XCTAssertNil(tokenizer.token(for: -1))
        XCTAssertNil(tokenizer.token(for: tokenizer.vocabSize))
        XCTAssertEqual(tokenizer.token(for: try XCTUnwrap(tokenizer.id(for: "Ġ"))), "Ġ")
    }

    func testConcurrentEncodingGivesTheSameIDs() throws {
        let tokenizer = try TokenizerFixtures.tokenizer("llama3")
        let texts = try TokenizerFixtures.golden("llama3").cases.map(\.text)
        let expected = try texts.map { try tokenizer.encode($0, addSpecialTokens: false) }
        let results = ConcurrentResults(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            // Each worker goes through the texts in another order so the shared word cache is contended.
            let order = texts.indices.map { ($0 * (worker + 1) * 7919) % texts.count }
            let same = order.allSatisfy { (try? tokenizer.encode(texts[$0], addSpecialTokens: false)) == expected[$0] }
            results.set(worker, same)
        }
        XCTAssertEqual(results.values, [Bool](repeating: true, count: 8))
    }
}

/// Per-worker results written from `concurrentPerform`.
private final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Bool]

    init(count: Int) { values = [Bool](repeating: false, count: count) }

    func set(_ index: Int, _ value: Bool) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }
}
