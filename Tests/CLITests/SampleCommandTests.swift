import Foundation
import Tasks
import XCTest

/// `grpo sample`: rejection sampling with an external reward, checked against the reward's own rule.
final class SampleCommandTests: XCTestCase {
    static var exampleReward: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/example_reward_command.py").path
    }

    /// Words of a completion, as the example command counts them (Python's str.split()).
    func words(_ text: String) -> Int { text.split(whereSeparator: { $0.isWhitespace }).count }

    func testSampleKeepsWhatTheRewardPassesAndExplainsTheRest() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let run = try TinyRun("sample")
        defer { run.remove() }
        // The rows say style=short: the example command scores 1 for at most 3 words.
        let rows = try JSONL.read(run.train).rows.prefix(24).map { row -> Row in
            var row = row
            row.columns["style"] = .string("short")
            return row
        }
        let data = run.dir.appendingPathComponent("short.jsonl")
        try JSONL.write(Array(rows), to: data)
        func sample(_ keep: String, _ extra: [String] = [], out: String) throws -> (out: String, rows: [Row]) {
            let file = run.dir.appendingPathComponent(out)
            let result = try GRPOBinary.run(["sample", "--model", run.model.path, "--data", data.path, "-k", "6", "--max-new-tokens", "6",
                                             "--reward-funcs", "command:\(Self.exampleReward) --words 3", "--keep", keep, "--seed", "5",
                                             "--out", file.path] + extra)
            XCTAssertEqual(result.status, 0, result.err)
            return (result.out, try JSONL.read(file).rows)
        }

        let all = try sample("all-correct", ["--dedupe"], out: "all.jsonl")
        XCTAssertFalse(all.rows.isEmpty, "a random model writes some completions of at most 3 words")
        for row in all.rows {
            let completion = try XCTUnwrap(row.completionText)
            XCTAssertLessThanOrEqual(words(completion), 3, completion)
            XCTAssertEqual(row.columns["reward"]?.numberValue, 1)
            XCTAssertEqual(row.columns["style"], .string("short"), "the row's columns are kept")
            XCTAssertTrue(rows.contains { $0.prompt == row.prompt })
        }
        let perPrompt = Dictionary(grouping: all.rows, by: { "\($0.prompt)" })
        for (_, kept) in perPrompt { XCTAssertEqual(Set(kept.map { $0.completionText ?? "" }).count, kept.count, "--dedupe") }
        XCTAssertTrue(all.out.contains("24 prompts x k = 144 samples"), all.out)
        XCTAssertTrue(all.out.contains("kept \(all.rows.count) rows from \(perPrompt.count) prompts"), all.out)

        let best = try sample("best", out: "best.jsonl")
        XCTAssertEqual(best.rows.count, perPrompt.count, "best keeps one row for each prompt with a correct sample")
        XCTAssertEqual(try sample("best", out: "again.jsonl").rows, best.rows, "same seed, same rows")

        // Every prompt with a correct sample is too easy at pass rate 0:0 (a pass rate of 0 keeps nothing).
        let none = try sample("all-correct", ["--pass-rate", "0:0"], out: "none.jsonl")
        XCTAssertEqual(none.rows.count, 0)
        XCTAssertTrue(none.out.contains("\(perPrompt.count) too easy, \(24 - perPrompt.count) too hard"), none.out)
    }

    func testBadOptionsAreClearErrors() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let run = try TinyRun("sample-bad")
        defer { run.remove() }
        let base = ["sample", "--model", run.model.path, "--data", run.train.path, "--out", run.dir.appendingPathComponent("o.jsonl").path]
        for (extra, message) in [(["--pass-rate", "0.9:0.1"], "--pass-rate must be LOW:HIGH"), (["--keep", "some"], "--keep must be best or all-correct"),
                                 (["--reward-funcs", "nope"], "nope"), (["--reward-funcs", "command:/no/such"], "'/no/such'")] {
            let result = try GRPOBinary.run(base + extra)
            XCTAssertNotEqual(result.status, 0, "\(extra)")
            XCTAssertTrue(result.err.contains(message), "\(extra): \(result.err)")
        }
        let missing = try GRPOBinary.run(["sample", "--model", run.model.path, "--data", "/no/data.jsonl", "--out", "/tmp/x.jsonl"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("/no/data.jsonl"), missing.err)
    }
}
