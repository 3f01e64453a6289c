import Foundation
import XCTest

/// `grpo fuzz` (issue 22): seeded mutations of every file format a user hands us end in an error that
/// names the file, or load when still valid; never a crash or a hang. The full run's figures are in
/// the README; this runs a smaller seeded share of it in `make test`.
final class FuzzTests: XCTestCase {
    /// The fixtures each format's cases also mutate, beside the generated seeds.
    static let fixtures: [String: [String]] = [
        "gguf": ["Tests/ModelIOTests/Fixtures/tiny_qwen2.gguf"],
        "tokenizer": ["Tests/TokenizationTests/Fixtures/llama3/tokenizer.json"],
        "tokenizer-config": ["Tests/TokenizationTests/Fixtures/qwen2/tokenizer_config.json",
                             "Tests/TokenizationTests/Fixtures/smollm2/tokenizer_config.json"],
        "config": ["Tests/TransformerTests/Fixtures/llama_v4_config.json"],
        "yaml": ["recipes/demo/grpo.yaml"],
    ]

    /// The package folder (the fixtures' root), from this file's path.
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// Cases per format, chosen so the whole test takes about a minute on two cores.
    static let cases: [String: Int] = [
        "safetensors": 3000, "gguf": 3000, "tokenizer": 2000, "tokenizer-config": 2000, "chat-template": 1000, "config": 3000,
        "yaml": 1000, "jsonl": 2000,
    ]

    func testNoFormatCrashesOrHangs() throws {
        let failures = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-fuzz-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: failures) }
        for (format, count) in Self.cases.sorted(by: { $0.key < $1.key }) {
            let seedFiles = (Self.fixtures[format] ?? []).flatMap { ["--seed-file", Self.root.appendingPathComponent($0).path] }
            let result = try GRPOBinary.run(["fuzz", format, "--cases", "\(count)", "--seed", "22", "--timeout", "10",
                                             "--failures", failures.path] + seedFiles)
            XCTAssertEqual(result.status, 0, "\(format): \(result.out.suffix(3000)) \(result.err)")
            let row = try XCTUnwrap(result.out.split(separator: "\n").first { $0.hasPrefix("| \(format) |") }, result.out)
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            // format, cases, clean errors, accepted, crashes, hangs, unclear errors, slowest case
            XCTAssertEqual(cells[1], "\(count)", String(row))
            XCTAssertEqual(cells[4...6], ["0", "0", "0"], "\(format): crashes, hangs or unclear errors: \(row)")
            XCTAssertGreaterThan(Int(cells[2]) ?? 0, count / 2, "\(format): most mutations should be refused: \(row)")
        }
    }

    /// The same seed gives the same cases, hence the same tallies.
    func testTheSameSeedGivesTheSameRun() throws {
        let runs = try (0..<2).map { _ in try GRPOBinary.run(["fuzz", "jsonl", "config", "--cases", "300", "--seed", "5"]) }
        let tables = runs.map { $0.out.split(separator: "\n").filter { $0.hasPrefix("| jsonl") || $0.hasPrefix("| config") }
            .map { $0.split(separator: "|").dropLast().joined(separator: "|") } }
        XCTAssertEqual(tables[0].count, 2, runs[0].out)
        XCTAssertEqual(tables[0], tables[1])
        let other = try GRPOBinary.run(["fuzz", "jsonl", "--cases", "300", "--seed", "6"])
        XCTAssertNotEqual(other.out.split(separator: "\n").first { $0.hasPrefix("| jsonl") }.map { String($0) }, tables[0].first.map { String($0) })
    }

    /// A reproducer replays in-process: the first crash the fuzzer found (a tokenizer_config.json whose
    /// model_max_length is -1e308, which trapped converting to Int) is now an error naming the field.
    func testAReproducerReplays() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-fuzz-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("case.json")
        try Data(#"{"eos_token": "<|im_end|>", "model_max_length": -1e308}"#.utf8).write(to: file)
        let result = try GRPOBinary.run(["fuzz", "tokenizer-config", "--replay", file.path])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.hasPrefix("clean error: ") && result.out.contains("field 'model_max_length': expected a number >= 0, got -1e+308"), result.out)
    }
}
