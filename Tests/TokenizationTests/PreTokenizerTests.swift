import Foundation
@testable import Tokenization
import XCTest

/// Pre-tokenizers and normalizers against Hugging Face's `pre_tokenize_str` / `normalize_str` on
/// pretokenizers.json and normalizers.json: every Split behaviour with and without `invert`, string
/// and regex patterns, Digits, ByteLevel options, sequences, and random strings for the regexes.
final class PreTokenizerTests: XCTestCase {
    /// (pre-tokenizer, [(text, pieces)]) from pretokenizers.json.
    private func goldenPreTokenizers() throws -> [(PreTokenizer, [(String, [String])])] {
        guard let entries = try TokenizerFixtures.json("pretokenizers.json") as? [[String: Any]] else {
            throw TokenizerError.malformed(file: "pretokenizers.json", field: "(root)", reason: "expected a list")
        }
        return try entries.map { entry in
            let spec = try JSONSerialization.data(withJSONObject: entry["pre_tokenizer"] ?? [:])
            let cases = (entry["cases"] as? [[Any]] ?? []).compactMap { pair -> (String, [String])? in
                guard let text = pair.first as? String, let pieces = pair.last as? [String] else { return nil }
                return (text, pieces)
            }
            return (try JSONDecoder().decode(PreTokenizer.self, from: spec), cases)
        }
    }

    func testPreTokenizersMatchHuggingFace() throws {
        let golden = try goldenPreTokenizers()
        XCTAssertGreaterThan(golden.count, 50)
        var failures: [String] = []
        for (preTokenizer, cases) in golden {
            for (text, expected) in cases {
                let pieces = try preTokenizer.pieces(of: text)
                if pieces != expected {
                    failures.append("\(preTokenizer) on \(TokenizerFixtures.show(text)): got \(pieces), expected \(expected)")
                }
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) differences:\n" + failures.prefix(10).joined(separator: "\n"))
    }

    /// The general regex engine (ICU) gives the same pieces as the hand-written matchers, so patterns
    /// we do not recognise are still split as Hugging Face splits them.
    func testGeneralRegexEngineAgreesOnKnownPatterns() throws {
        var checked = 0
        var failures: [String] = []
        for (preTokenizer, cases) in try goldenPreTokenizers() {
            guard case .split(.regex(let regex), _, _) = preTokenizer,
                  [KnownPatterns.gpt2, KnownPatterns.llama3, KnownPatterns.qwen2].contains(regex) else { continue }
            let general = try PreTokenizerPipeline(preTokenizer, handWrittenPatterns: false)
            guard case .general = try PatternMatcher(.regex(regex), handWritten: false) else {
                return XCTFail("handWritten: false must compile a general regex")
            }
            for (text, expected) in cases {
                checked += 1
                let pieces = general.pieces(of: text)
                if pieces != expected { failures.append("\(regex.prefix(20)) on \(TokenizerFixtures.show(text)): got \(pieces)") }
            }
        }
        XCTAssertGreaterThan(checked, 1000)
        XCTAssert(failures.isEmpty, "\(failures.count) differences:\n" + failures.prefix(10).joined(separator: "\n"))
    }

    func testNormalizersMatchHuggingFace() throws {
        guard let entries = try TokenizerFixtures.json("normalizers.json") as? [[String: Any]] else {
            return XCTFail("normalizers.json: expected a list")
        }
        var failures: [String] = []
        for entry in entries {
            let spec = try JSONSerialization.data(withJSONObject: entry["normalizer"] ?? [:])
            let normalizer = try JSONDecoder().decode(Normalizer.self, from: spec)
            for pair in entry["cases"] as? [[String]] ?? [] where pair.count == 2 {
                let normalized = normalizer.normalize(pair[0])
                // Compare scalars: String == would call canonically equivalent strings equal.
                if Array(normalized.unicodeScalars) != Array(pair[1].unicodeScalars) {
                    failures.append("\(normalizer) on \(TokenizerFixtures.show(pair[0])): got \(TokenizerFixtures.show(normalized))")
                }
            }
        }
        XCTAssertEqual(entries.count, 6)
        XCTAssert(failures.isEmpty, "\(failures.count) differences:\n" + failures.prefix(10).joined(separator: "\n"))
    }

    func testPresetsEncodeAsTheFileDescribesThem() throws {
        let llama = try JSONDecoder().decode(PreTokenizer.self, from: Data("""
            {"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\(KnownPatterns.llama3.replacingOccurrences(of: "\\", with: "\\\\"))"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]}
            """.utf8))
        XCTAssertEqual(llama, .llama3)
        XCTAssertEqual(try PreTokenizer.qwen2.pieces(of: "I'M 1234 你好\n\n x"), ["I", "'M", "Ġ", "1", "2", "3", "4", "Ġä½łå¥½", "ĊĊ", "Ġx"])
        XCTAssertEqual(try PreTokenizer.llama3.pieces(of: "1234567"), ["123", "456", "7"])
        XCTAssertEqual(try PreTokenizer.gpt2.pieces(of: "Hello  world!"), ["Hello", "Ġ", "Ġworld", "!"])
        XCTAssertEqual(try PreTokenizer.smolLM2.pieces(of: "a12"), ["a", "1", "2"])
    }
}
