import Foundation
import Tasks
import Tokenization
import Transformer
import XCTest

/// Runs the `grpo` binary: a training process killed with SIGKILL mid-run leaves its last checkpoint
/// whole, and `--resume` finishes the run from it exactly as an uninterrupted run goes: the same
/// metrics lines value for value (wall-clock figures aside) and the same final weights bit for bit.
final class KillAndResumeTests: XCTestCase {
    var binary: URL { GRPOBinary.url }

    func testSIGKILLThenResume() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no grpo binary at \(binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // A small addition dataset, a tokenizer trained on it and a small random model.
        let task = try ArithmeticTask(digits: 2, operations: [.add])
        let splits = try makeDataset(task: task, train: 300, test: 20, seed: 3, format: .plain)
        try JSONL.write(splits.train, to: dir.appendingPathComponent("train.jsonl"))
        let texts = splits.train.flatMap { row -> [String] in
            if case .text(let prompt) = row.prompt { return [prompt] + [row.completionText ?? ""] }
            return []
        }
        let tokenizer = try BPETrainer(vocabSize: 270, specialTokens: ["<|endoftext|>"])
            .train(texts, config: TokenizerConfig(eosToken: "<|endoftext|>"))
        let tokDir = dir.appendingPathComponent("tok")
        try FileManager.default.createDirectory(at: tokDir, withIntermediateDirectories: true)
        try tokenizer.save(to: tokDir)
        let model = DecoderModel(config: DecoderConfig(modelType: "qwen2", vocabSize: tokenizer.vocabSize, hiddenSize: 64,
                                                       intermediateSize: 128, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                                       tieWordEmbeddings: true, qkvBias: true, eosTokenIDs: [0]))
        model.initialize(seed: 1)
        try ModelCheckpoint.save(model, to: dir.appendingPathComponent("init"), tokenizerSource: tokDir)

        let output = dir.appendingPathComponent("run")
        // A constant learning rate, so the killed run (max_steps 100000) and the resumed one share a schedule.
        func arguments(maxSteps: Int, resume: Bool, output: URL) -> [String] {
            ["train", "sft", "--set", "model=\(dir.path)/init", "--set", "train_file=\(dir.path)/train.jsonl",
             "--set", "output_dir=\(output.path)", "--set", "max_steps=\(maxSteps)", "--set", "save_steps=5",
             "--set", "save_total_limit=2", "--set", "per_device_train_batch_size=8", "--set", "logging_steps=1",
             "--set", "learning_rate=0.001", "--set", "lr_scheduler_type=constant"] + (resume ? ["--resume"] : [])
        }

        // Kill the first run once it has written a checkpoint and gone on training.
        let first = Process()
        first.executableURL = binary
        first.arguments = arguments(maxSteps: 100_000, resume: false, output: output)
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let steps = try? checkpointSteps(output), steps.contains(where: { $0 >= 10 }) { break }
            usleep(20_000)
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationReason, .uncaughtSignal)
        let survivors = try checkpointSteps(output)
        XCTAssertFalse(survivors.isEmpty, "a checkpoint before the kill")
        // Every checkpoint left is whole: it loads.
        for step in survivors {
            XCTAssertNoThrow(try ModelCheckpoint.load(directory: output.appendingPathComponent("checkpoint-\(step)")))
        }

        // Resume to a few steps past the latest checkpoint.
        let target = survivors.max()! + 7
        let second = Process()
        second.executableURL = binary
        second.arguments = arguments(maxSteps: target, resume: true, output: output)
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)
        XCTAssertTrue(try checkpointSteps(output).contains(target))
        let lines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let steps = lines.compactMap { line -> Int? in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
        }
        XCTAssertEqual(steps.filter { $0 <= target }.count, steps.count)
        XCTAssertEqual(Set(steps), Set(1...target), "metrics.jsonl reads as one run")

        // The same run without a kill: every metrics line and the final weights are the same.
        let straight = dir.appendingPathComponent("straight")
        let uninterrupted = try GRPOBinary.run(arguments(maxSteps: target, resume: false, output: straight))
        XCTAssertEqual(uninterrupted.status, 0, uninterrupted.err)
        let resumedLines = try metricLines(output), straightLines = try metricLines(straight)
        XCTAssertEqual(resumedLines.count, target)
        XCTAssertEqual(resumedLines, straightLines, "metrics.jsonl of the killed and resumed run vs an uninterrupted one")
        let a = try ModelCheckpoint.load(directory: output.appendingPathComponent("checkpoint-\(target)"))
        let b = try ModelCheckpoint.load(directory: straight.appendingPathComponent("checkpoint-\(target)"))
        XCTAssertTrue(Array(a.parameters.values.buffer) == Array(b.parameters.values.buffer), "final weights bit for bit")
    }

    /// metrics.jsonl lines without the wall-clock figures.
    func metricLines(_ output: URL) throws -> [[String: Double]] {
        try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map { line in
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
            for key in ["step_time", "tokens_per_second", "wall_time", "train_time", "memory/peak_rss_mb"] { object[key] = nil }
            return object
        }
    }

    func checkpointSteps(_ output: URL) throws -> [Int] {
        try FileManager.default.contentsOfDirectory(atPath: output.path).compactMap {
            $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil
        }
    }
}
