import Foundation
import ModelIO
import Tasks
import Tokenization
import Training
import XCTest

/// A GGUF file's tokenizer metadata: errors found by `grpo fuzz gguf` name the file and its
/// `tokenizer.ggml.*` field.
final class GGUFTokenizerTests: XCTestCase {
    func gguf(merges: [String], template: String) throws -> URL {
        var builder = GGUFBuilder(architecture: "qwen2")
        builder.add("tokenizer.ggml.model", .string("gpt2"))
        builder.add("tokenizer.ggml.tokens", .array(.string, ["a", "b", "ab", "<|im_end|>"].map { .string($0) }))
        builder.add("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))
        builder.add("tokenizer.ggml.eos_token_id", .uint32(3))
        builder.add("tokenizer.chat_template", .string(template))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-gguf-tokenizer-\(UUID().uuidString).gguf")
        try Data(builder.bytes()).write(to: url)
        return url
    }

    func testAMergeOfUnknownTokensNamesTheFileAndField() throws {
        let good = try gguf(merges: ["a b"], template: "{{ messages[0]['content'] }}")
        defer { try? FileManager.default.removeItem(at: good) }
        XCTAssertEqual(try GGUFTokenizer.load(url: good).encode("ab", addSpecialTokens: false), [2])
        let bad = try gguf(merges: ["a c"], template: "")
        defer { try? FileManager.default.removeItem(at: bad) }
        XCTAssertThrowsError(try GGUFTokenizer.load(url: bad)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(bad.path): field 'tokenizer.ggml.merges[0]': "), "\(error)")
        }
    }

    /// The chat template of a GGUF file is named in its errors, at parse and at render time.
    func testChatTemplateErrorsNameTheFile() throws {
        let url = try gguf(merges: ["a b"], template: "{{ messages[3]['content'] }}")
        defer { try? FileManager.default.removeItem(at: url) }
        let formatter = try PromptFormatter(tokenizer: try GGUFTokenizer.load(url: url), useChatTemplate: true, model: url.path)
        XCTAssertThrowsError(try formatter.text(Row(prompt: .text("ab")), file: "rows.jsonl")) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        let broken = try gguf(merges: ["a b"], template: "{% if %}")
        defer { try? FileManager.default.removeItem(at: broken) }
        XCTAssertThrowsError(try PromptFormatter(tokenizer: try GGUFTokenizer.load(url: broken), useChatTemplate: true, model: "m")) { error in
            XCTAssertTrue("\(error)".contains(broken.path), "\(error)")
        }
    }
}
