import Foundation
import Transformer
import XCTest

/// Inputs a hostile or careless user hands the binary (issue 22): each ends with a message that
/// names the input and what was expected, a non-zero status, and no trap.
final class HostileInputTests: XCTestCase {
    func expectRefused(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try GRPOBinary.run(arguments)
        XCTAssertNotEqual(result.status, 0, "\(arguments)", file: file, line: line)
        XCTAssertTrue(result.err.contains(message), "\(arguments.prefix(2)): '\(result.err)' lacks '\(message)'", file: file, line: line)
        XCTAssertFalse(result.err.contains("Fatal error") || result.err.contains("NSCocoaErrorDomain"), result.err, file: file, line: line)
    }

    /// A model whose finite weights overflow to NaN log-probabilities: `score --json` names the
    /// problem instead of the JSON encoder's. (NaN weights themselves are refused at load: FaultTests.)
    func testScoreJSONOfANaNModelIsNamed() throws {
        let run = try TinyRun("nan")
        defer { run.remove() }
        let model = try ModelCheckpoint.load(directory: run.model)
        let norm = try XCTUnwrap(model.parameters["model.norm.weight"])
        for i in 0..<norm.count { norm.data[i] = 3e38 }
        let broken = run.dir.appendingPathComponent("nan-model")
        try ModelCheckpoint.save(model, to: broken, tokenizerSource: run.tokenizerFolder)
        try expectRefused(["score", "--model", broken.path, "--text", "12+34=46", "--json"],
                          "\(broken.path): --json: the log-probability of token 1 is -nan, which JSON cannot hold")
        let text = try GRPOBinary.run(["score", "--model", broken.path, "--text", "12+34=46"])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("nan"), text.out)
    }

    /// Sizes and empty inputs from the command line and settings (already refused; kept so).
    func testSizesAndEmptyInputsAreRefused() throws {
        let run = try TinyRun("hostile")
        defer { run.remove() }
        let model = run.model.path
        try expectRefused(["generate", "--model", model, "--prompt", ""], "--prompt encodes to no tokens")
        try expectRefused(["generate", "--model", model, "--prompt", "1+1=", "--num-return", "1000000000"],
                          "--num-return must be in 1...4096, got 1000000000")
        try expectRefused(["generate", "--model", model, "--prompt", "1+1=", "--max-new-tokens", "100000000"],
                          "--max-new-tokens 100000000 exceed the model's 2048 positions (max_position_embeddings)")
        for (setting, message) in [("per_device_train_batch_size=99999999999",
                                    "key 'per_device_train_batch_size': expected an integer in [1, 65536], got 99999999999"),
                                   ("output_dir=", "key 'output_dir': expected a string (required), got \"\""),
                                   ("max_length=1", "key 'max_length': expected an integer in [2, 1000000], got 1")] {
            try expectRefused(["train", "sft"] + run.settings("sft", output: "sft") + ["--set", setting], message)
        }
        let rows = run.dir.appendingPathComponent("empty-prompt.jsonl")
        try (#"{"prompt": "", "completion": "3"}"# + "\n").write(to: rows, atomically: true, encoding: .utf8)
        try expectRefused(["train", "sft"] + run.settings("sft", output: "sft") + ["--set", "train_file=\(rows.path)"],
                          "\(rows.path): row 1 has no `prompt (non-empty)` column")
    }
}
