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
        let problems = run.dir.appendingPathComponent("problems.jsonl")
        try (#"{"prompt": "1+1=", "answer": "2"}"# + "\n").write(to: problems, atomically: true, encoding: .utf8)
        try expectRefused(["eval", "--model", model, "--data", problems.path, "-k", "100000000000"], "-k must be in 1...4096, got 100000000000")
        try expectRefused(["sample", "--model", model, "--data", problems.path, "--out", run.dir.appendingPathComponent("kept.jsonl").path,
                           "-k", "100000000000"], "-k must be in 1...4096, got 100000000000")
        try expectRefused(["bench", "generate", "--prompt-tokens", "0"], "--prompt-tokens and --new-tokens must be in 1...1048576, got 0 and 64")
        try expectRefused(["bench", "generate", "--prompt-tokens", "\(Int.max)", "--new-tokens", "1"],
                          "--prompt-tokens and --new-tokens must be in 1...1048576, got \(Int.max) and 1")
        try expectRefused(["bench", "forward", "--batch", "\(Int.max)", "--time", "2"],
                          "--vocab must be <= 1048576 and --batch x --time <= 1048576 tokens, got 512 and \(Int.max) x 2")
        try expectRefused(["bench", "generate", "--batch-sizes", "1", "0"], "--batch-sizes must be in 1...4096, got [1, 0]")
        try expectRefused(["bench", "forward", "--batch", "100000000"],
                          "--vocab must be <= 1048576 and --batch x --time <= 1048576 tokens, got 512 and 100000000 x 128")
        try expectRefused(["bench", "forward", "--time", "2000"], "--time 2000 exceeds the model's 1024 positions (max_position_embeddings)")
        try expectRefused(["bench", "grpo-step", "--lora-r", "1000000000"],
                          "--prompts and --generations must be <= 4096 (at most 65536 completions a step) and --lora-r <= 4096, got 8, 8 and 1000000000")
        try expectRefused(["bench", "sandbox", "--programs", "100000000000"], "--programs must be in 1...100000, got 100000000000")
        try expectRefused(["bench", "tokenizer", "--tokenizer", run.tokenizerFolder.path, "--megabytes", "100000000"],
                          "--megabytes must be in 1...1024, got 100000000")
        try expectRefused(["demo", "smollm2", "--minutes", "0"], "--minutes must be a positive number, got 0.0")
        try expectRefused(["bench", "generate", "--prompt-tokens", "1000"],
                          "--prompt-tokens 1000 + --new-tokens 64 exceed tiny's 1024 positions (max_position_embeddings)")
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

    /// Model paths that are not models: each refused by name, saying what the path is instead.
    func testModelPathsThatAreNotModels() throws {
        let run = try TinyRun("model-paths")
        defer { run.remove() }
        let fm = FileManager.default
        let notes = run.dir.appendingPathComponent("notes")
        try fm.createDirectory(at: notes, withIntermediateDirectories: true)
        try Data("hi".utf8).write(to: notes.appendingPathComponent("readme.txt"))
        let runFolder = run.dir.appendingPathComponent("old-run/checkpoint-7")
        try fm.createDirectory(at: runFolder, withIntermediateDirectories: true)
        let loop = run.dir.appendingPathComponent("loop-a")
        try fm.createSymbolicLink(atPath: loop.path, withDestinationPath: run.dir.appendingPathComponent("loop-b").path)
        try fm.createSymbolicLink(atPath: run.dir.appendingPathComponent("loop-b").path, withDestinationPath: loop.path)
        let tail = "; a model is a Hugging Face folder (config.json, model.safetensors, tokenizer.json) or a .gguf file"
        for (path, reason) in [(notes.path, "a folder without config.json (it holds readme.txt)"),
                               (run.dir.appendingPathComponent("old-run").path,
                                "a run's output folder (without config.json); its checkpoints are folders such as checkpoint-7"),
                               (run.train.path, "a file whose name does not end in .gguf"),
                               (loop.path, "a symlink that does not resolve (Too many levels of symbolic links)"),
                               (run.dir.appendingPathComponent("absent").path, "No such file or directory")] {
            try expectRefused(["generate", "--model", path, "--prompt", "1+1="], "\(path): not a model: \(reason)\(tail)")
            try expectRefused(["train", "sft"] + run.settings("sft", output: "sft", ["model=\(path)"]), "\(path): not a model: \(reason)")
        }
    }

    /// A loop of symlinks as output_dir or train_file is named with the system's reason.
    func testSymlinkLoopsAreNamed() throws {
        let run = try TinyRun("symlink-loops")
        defer { run.remove() }
        let loop = run.dir.appendingPathComponent("loop-a")
        try FileManager.default.createSymbolicLink(atPath: loop.path, withDestinationPath: run.dir.appendingPathComponent("loop-b").path)
        try FileManager.default.createSymbolicLink(atPath: run.dir.appendingPathComponent("loop-b").path, withDestinationPath: loop.path)
        try expectRefused(["train", "sft"] + run.settings("sft", output: "sft", ["train_file=\(loop.path)"]),
                          "\(loop.path): cannot read: Too many levels of symbolic links")
        try expectRefused(["train", "sft"] + run.settings("sft", output: "loop-a"), "\(loop.path): cannot write: output_dir must be a writable folder")
    }

    /// An output_dir holding a run's checkpoint is refused without --resume, unless
    /// overwrite_output_dir, which removes the old run's checkpoints and logs (so a later --resume
    /// cannot pick up a stale one). A run that saved no checkpoint is started over.
    func testAnExistingRunIsNotOverwrittenUnlessAsked() throws {
        let run = try TinyRun("existing-run")
        defer { run.remove() }
        let output = run.dir.appendingPathComponent("sft")
        let first = try GRPOBinary.run(["train", "sft"] + run.settings("sft", output: "sft", ["max_steps=3", "save_steps=3"]))
        XCTAssertEqual(first.status, 0, first.err)
        try expectRefused(["train", "sft"] + run.settings("sft", output: "sft"),
                          "\(output.path): output_dir already holds a run (checkpoint-3, events.out.tfevents.")
        let resumed = try GRPOBinary.run(["train", "sft", "--resume"] + run.settings("sft", output: "sft", ["max_steps=3", "save_steps=3"]))
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let keep = output.appendingPathComponent("notes.txt")
        try Data("mine".utf8).write(to: keep)
        let again = try GRPOBinary.run(["train", "sft"] + run.settings("sft", output: "sft", ["overwrite_output_dir=true"]))
        XCTAssertEqual(again.status, 0, again.err)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("checkpoint-") }
        XCTAssertEqual(names, ["checkpoint-2"], "the old run's checkpoint-3 is gone")
        XCTAssertTrue(FileManager.default.fileExists(atPath: keep.path), "files that are not the run's are kept")
        let steps = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(steps.count, 2, "metrics of the new run only")
        let unsaved = run.dir.appendingPathComponent("unsaved")
        try FileManager.default.createDirectory(at: unsaved, withIntermediateDirectories: true)
        try Data("{\"step\": 1, \"loss\": 9}\n{\"step\": 2, \"loss\": 9}\n{\"step\": 3, \"loss\": 9}\n".utf8)
            .write(to: unsaved.appendingPathComponent("metrics.jsonl"))
        let fresh = try GRPOBinary.run(["train", "sft"] + run.settings("sft", output: "unsaved"))
        XCTAssertEqual(fresh.status, 0, fresh.err)
        let freshSteps = try String(contentsOf: unsaved.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(freshSteps.count, 2, "the unsaved run's metrics are gone")
        XCTAssertFalse(freshSteps.contains { $0.contains("\"loss\": 9") })
    }
}

