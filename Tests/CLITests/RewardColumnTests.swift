import Foundation
import Tasks
import XCTest

/// Rows that lack a column their reward or verifier reads are refused before training, by file,
/// row and column (issue 22: they used to train on with `reward nan` and 0% held-out accuracy).
final class RewardColumnTests: XCTestCase {
    func testRowsWithoutTheAnswerColumnAreRefused() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let tiny = try TinyRun("columns")
        defer { tiny.remove() }
        var rows = try JSONL.read(tiny.train).rows
        rows[4].columns["answer"] = nil
        let broken = tiny.dir.appendingPathComponent("no-answer.jsonl")
        try JSONL.write(rows, to: broken)
        for trainer in ["grpo", "ppo"] {
            let result = try GRPOBinary.run(["train", trainer] + tiny.settings(trainer, output: trainer) + ["--set", "train_file=\(broken.path)"])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.err.contains("\(broken.path): row 5 has no `answer (read by math_answer)` column"), result.err)
        }
        // A selector that leaves the row out: nothing to check there, the run trains.
        var tagged = rows
        for i in tagged.indices { tagged[i].columns["kind"] = .string(i == 4 ? "other" : "sum") }
        let selected = tiny.dir.appendingPathComponent("tagged.jsonl")
        try JSONL.write(tagged, to: selected)
        let ok = try GRPOBinary.run(["train", "grpo"] + tiny.settings("grpo", output: "tagged")
                                    + ["--set", "train_file=\(selected.path)", "--set", "reward_funcs=[math_answer?kind=sum]"])
        XCTAssertEqual(ok.status, 0, ok.err)
        // The held-out rows, for the verifier.
        let heldOut = try GRPOBinary.run(["train", "grpo"] + tiny.settings("grpo", output: "eval") + ["--set", "eval_file=\(broken.path)"])
        XCTAssertNotEqual(heldOut.status, 0)
        XCTAssertTrue(heldOut.err.contains("\(broken.path): row 5 has no `answer (read by math_answer)` column"), heldOut.err)
    }
}
