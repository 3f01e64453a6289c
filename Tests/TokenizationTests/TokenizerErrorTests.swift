import Foundation
import Tokenization
import XCTest

/// Malformed and unsupported tokenizer.json files give a `TokenizerError` naming the file, the field
/// or component, and the offending value; never a crash.
final class TokenizerErrorTests: XCTestCase {
    /// A valid byte-level tokenizer.json with one part replaced by `overrides` (JSON fragments by key).
    private func file(_ overrides: [String: String] = [:]) -> Data {
        var parts: [(String, String)] = [
            ("version", #""1.0""#),
            ("added_tokens", #"[{"id": 3, "content": "<s>", "special": true}]"#),
            ("normalizer", "null"),
            ("pre_tokenizer", #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#),
            ("post_processor", "null"),
            ("decoder", #"{"type": "ByteLevel"}"#),
            ("model", #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#),
        ]
        for (key, value) in overrides {
            if let index = parts.firstIndex(where: { $0.0 == key }) { parts[index].1 = value } else { parts.append((key, value)) }
        }
        parts.removeAll { overrides[$0.0] == "<absent>" }
        return Data(("{" + parts.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}").utf8)
    }

    private func assertError(_ data: Data, _ expected: TokenizerError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Tokenizer(data: data, file: "bad.json"), file: file, line: line) { error in
            XCTAssertEqual(error as? TokenizerError, expected, "\(error)", file: file, line: line)
            XCTAssertTrue((error as? LocalizedError)?.errorDescription?.hasPrefix("bad.json: ") ?? false, "\(error)", file: file, line: line)
        }
    }

    func testTheBaseFileLoads() throws {
        let tokenizer = try Tokenizer(data: file(), file: "good.json")
        XCTAssertEqual(try tokenizer.encode("ab<s>a", addSpecialTokens: true), [2, 3, 0])
        XCTAssertEqual(tokenizer.decode([2, 3, 0], skipSpecialTokens: true), "aba")
    }

    func testUnsupportedComponentsAreNamed() {
        assertError(file(["pre_tokenizer": #"{"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Metaspace", "replacement": "▁"}]}"#]),
                    .unsupported(file: "bad.json", component: "pre_tokenizer.pretokenizers[1]", type: "Metaspace"))
        assertError(file(["normalizer": #"{"type": "Sequence", "normalizers": [{"type": "Replace"}]}"#]),
                    .unsupported(file: "bad.json", component: "normalizer.normalizers[0]", type: "Replace"))
        assertError(file(["post_processor": #"{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]}"#]),
                    .unsupported(file: "bad.json", component: "post_processor", type: "RobertaProcessing"))
        assertError(file(["decoder": #"{"type": "Sequence", "decoders": [{"type": "ByteFallback"}]}"#]),
                    .unsupported(file: "bad.json", component: "decoder.decoders[0]", type: "ByteFallback"))
        assertError(file(["model": #"{"type": "WordPiece", "vocab": {"a": 0}}"#]),
                    .unsupported(file: "bad.json", component: "model", type: "WordPiece"))
    }

    func testUnsupportedOptionsAreNamed() {
        assertError(file(["model": #"{"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}"#]),
                    .unsupportedOption(file: "bad.json", field: "model.dropout", value: "0.1"))
        assertError(file(["model": #"{"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}, "merges": []}"#]),
                    .unsupportedOption(file: "bad.json", field: "model.byte_fallback", value: "true"))
        assertError(file(["model": #"{"type": "BPE", "continuing_subword_prefix": "@@", "vocab": {"a": 0}, "merges": []}"#]),
                    .unsupportedOption(file: "bad.json", field: "model.continuing_subword_prefix", value: "'@@'"))
        assertError(file(["version": #""2.0""#]), .unsupportedOption(file: "bad.json", field: "version", value: "'2.0'"))
    }

    func testMalformedFilesNameTheField() {
        XCTAssertThrowsError(try Tokenizer(data: Data("{\"model\": ".utf8), file: "bad.json")) { error in
            guard case .malformed("bad.json", "(root)", _) = error as? TokenizerError else { return XCTFail("\(error)") }
        }
        assertError(file(["model": "<absent>"]), .malformed(file: "bad.json", field: "model", reason: "missing"))
        assertError(file(["model": #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}"#]),
                    .malformed(file: "bad.json", field: "model.merges[0]", reason: "token 'ab' of merge 'a b' is not in the vocabulary"))
        assertError(file(["model": #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}"#]),
                    .malformed(file: "bad.json", field: "model.merges[0]", reason: "expected 'a b', found 'a b c'"))
        assertError(file(["model": #"{"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}"#]),
                    .malformed(file: "bad.json", field: "model.merges[0]", reason: "expected 2 tokens, found 1"))
        assertError(file(["model": #"{"type": "BPE", "vocab": {"a": -5}, "merges": []}"#]),
                    .malformed(file: "bad.json", field: "model.vocab", reason: "token 'a' has id -5, expected 0..<16777216"))
        assertError(file(["model": #"{"type": "BPE", "vocab": ["a"], "merges": []}"#]),
                    .malformed(file: "bad.json", field: "model.vocab", reason: "expected Dictionary<String, Any>"))
        let badRegex = file(["pre_tokenizer": #"{"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}"#])
        XCTAssertThrowsError(try Tokenizer(data: badRegex, file: "bad.json")) { error in
            guard case .malformed("bad.json", "pre_tokenizer", let reason) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix(#"invalid regex regex("(unclosed"): "#), reason)
        }
        assertError(file(["post_processor": #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}}"#]),
                    .malformed(file: "bad.json", field: "post_processor.special_tokens", reason: "template uses '<s>', which is not listed"))
    }

    func testUnreadableFileIsNamed() {
        let missing = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        XCTAssertThrowsError(try Tokenizer(url: missing)) { error in
            guard case .unreadable(let file, _) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missing.path)
        }
    }

    func testTruncatedFixtureNeverCrashes() throws {
        let data = try Data(contentsOf: TokenizerFixtures.directory.appendingPathComponent("qwen2/tokenizer.json"))
        for length in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            XCTAssertThrowsError(try Tokenizer(data: data.prefix(length))) { error in
                XCTAssertNotNil(error as? TokenizerError, "\(error)")
            }
        }
    }

    /// Found by `grpo fuzz tokenizer-config`: a negative model_max_length trapped converting -1e308 to Int.
    func testNegativeModelMaxLengthIsNamed() {
        for value in ["-1e308", "-1"] {
            let config = Data(#"{"eos_token": "<s>", "model_max_length": \#(value)}"#.utf8)
            XCTAssertThrowsError(try Tokenizer(data: file(), configData: config, configFile: "cfg/tokenizer_config.json")) { error in
                XCTAssertEqual("\(error)", "cfg/tokenizer_config.json: field 'model_max_length': expected a number >= 0, got \(Double(value) ?? 0)")
            }
        }
        XCTAssertNil(try Tokenizer(data: file(), configData: Data(#"{"model_max_length": 1e30}"#.utf8)).config.modelMaxLength, "1e30: no limit")
    }

    /// Found by `grpo fuzz tokenizer-config` and `chat-template`: template errors named no file. A
    /// template read beside tokenizer.json names its file, at parse and at render time.
    func testChatTemplateErrorsNameTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try file().write(to: folder.appendingPathComponent("tokenizer.json"))
        let config = folder.appendingPathComponent("tokenizer_config.json")
        try Data(#"{"chat_template": "{{ messages[0]['content'] }}{{ messages[5]['content'] }}"}"#.utf8).write(to: config)
        let tokenizer = try Tokenizer(url: folder)
        XCTAssertEqual(tokenizer.config.chatTemplateFile, config.path)
        let template = try ChatTemplate(source: try XCTUnwrap(tokenizer.chatTemplate), file: tokenizer.config.chatTemplateFile)
        XCTAssertThrowsError(try template.render(messages: [ChatTemplate.Message(role: "user", content: "hi")], addGenerationPrompt: true)) { error in
            XCTAssertTrue("\(error)".hasPrefix("chat template line 1: \(config.path): "), "\(error)")
        }
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        try Data("{% for m in messages %}{{ m }".utf8).write(to: jinja)
        let broken = try Tokenizer(url: folder)
        XCTAssertEqual(broken.config.chatTemplateFile, jinja.path)
        XCTAssertThrowsError(try ChatTemplate(source: try XCTUnwrap(broken.chatTemplate), file: broken.config.chatTemplateFile)) { error in
            XCTAssertTrue("\(error)".contains(jinja.path), "\(error)")
        }
    }
}
