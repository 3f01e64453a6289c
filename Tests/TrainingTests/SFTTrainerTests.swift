import Foundation
import Tasks
import TensorCore
import Transformer
import TestSupport
import XCTest
@testable import Training

/// A character-level codec for tests: one id per character of a small alphabet, then the end token.
struct CharCodec: TextCodec {
    static let alphabet = Array("0123456789+-*=<>/abcdefghijklmnopqrstuvwxyz ")
    var eosTokenIDs: Set<Int32> { [Int32(Self.alphabet.count)] }
    var vocabSize: Int { Self.alphabet.count + 1 }

    func encode(_ text: String) throws -> [Int32] {
        try text.map { c in
            guard let i = Self.alphabet.firstIndex(of: c) else { throw SettingsError.badOverride("char \(c)") }
            return Int32(i)
        }
    }

    func decode(_ ids: [Int32]) -> String {
        String(ids.compactMap { Int($0) < Self.alphabet.count && $0 >= 0 ? Self.alphabet[Int($0)] : nil })
    }
}

/// Addition examples "a+b=" -> "c" with a, b < 50.
func additionExamples(_ n: Int, seed: UInt64) -> [SFTExample] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in
        let a = rng.nextInt(below: 50), b = rng.nextInt(below: 50)
        return SFTExample(prompt: "\(a)+\(b)=", completion: "\(a + b)", columns: ["answer": .string("\(a + b)")])
    }
}

final class SFTTrainerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func config(_ output: String, _ extra: [String] = []) throws -> SFTConfig {
        try SFTConfig.resolve(TestSettings.entries([
            "model=unused", "train_file=unused", "output_dir=\(dir.appendingPathComponent(output).path)",
            "max_steps=8", "per_device_train_batch_size=4", "gradient_accumulation_steps=2", "learning_rate=0.01",
            "warmup_steps=2", "save_steps=4", "logging_steps=1", "eval_steps=0", "eval_samples=8", "eval_max_new_tokens=4",
            "weight_decay=0.01",
        ] + extra))
    }

    func freshModel(seed: UInt64 = 3) -> DecoderModel {
        let config = DecoderConfig(modelType: "qwen2", vocabSize: CharCodec().vocabSize, hiddenSize: 32, intermediateSize: 64,
                                   layerCount: 2, headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true,
                                   eosTokenIDs: [CharCodec.alphabet.count])
        let model = DecoderModel(config: config)
        model.initialize(seed: seed)
        return model
    }

    func trainer(_ config: SFTConfig, _ model: DecoderModel,
                 verify: @escaping @Sendable (String, [String: JSONValue]) -> Bool? = { text, columns in text == columns["answer"]?.stringValue })
        throws -> SFTTrainer {
        try SFTTrainer(config: config, model: model, codec: CharCodec(), train: additionExamples(40, seed: 1),
                       eval: additionExamples(8, seed: 2), tokenizerSource: nil,
                       verifier: Verifier(name: "test", check: verify, finalAnswer: { _ in nil }))
    }

    func quiet(stopAfter: Int? = nil) -> TrainingLoop {
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        loop.stopAfter = stopAfter
        return loop
    }

    /// metrics.jsonl without the wall-clock figures (which differ between runs).
    func metricLines(_ output: String) throws -> [[String: Double]] {
        try String(contentsOf: dir.appendingPathComponent("\(output)/metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line in
                var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
                for key in ["step_time", "tokens_per_second", "wall_time", "train_time", "memory/peak_rss_mb"] { object[key] = nil }
                return object
            }
    }

    /// N steps in one go equal N/2 steps, a stop, and a resume to N into a model that starts from
    /// other weights: metrics lines and weights bitwise, so the checkpoint brought back the weights,
    /// AdamW's moments and step, and the data cursor.
    func testResumeIsBitwiseExact() throws {
        let straight = freshModel()
        try trainer(try config("straight"), straight).train(loop: quiet())

        let interrupted = try trainer(try config("split"), freshModel())
        try interrupted.train(loop: quiet(stopAfter: 4))
        let moments = (m: Array(interrupted.optimizer.m.buffer), v: Array(interrupted.optimizer.v.buffer), step: interrupted.optimizer.step)
        // A new process starts from other weights; only the checkpoint can make the runs equal.
        let resumed = try trainer(try config("split"), freshModel(seed: 77))
        let (state, _) = try TrainingCheckpoint.resume(resumed.checkpointParts, outputDirectory: dir.appendingPathComponent("split"))
        XCTAssertEqual(state.step, 4)
        XCTAssertEqual(state.position, (4 * 2 * 4) % 40, "the data cursor: 4 steps x 2 micro-batches x 4 rows")
        assertBitwiseEqual(Array(resumed.optimizer.m.buffer), moments.m, "first moments")
        assertBitwiseEqual(Array(resumed.optimizer.v.buffer), moments.v, "second moments")
        XCTAssertEqual(resumed.optimizer.step, moments.step)

        let again = try trainer(try config("split"), freshModel(seed: 77))
        try again.train(resume: true, loop: quiet())
        assertBitwiseEqual(Array(again.model.parameters.values.buffer), Array(straight.parameters.values.buffer))
        XCTAssertEqual(try metricLines("split"), try metricLines("straight"))
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("split")).map(\.step), [4, 8])
        // The checkpoint folder is a model folder that loads.
        let reloaded = try ModelCheckpoint.load(directory: dir.appendingPathComponent("split/checkpoint-8"))
        assertBitwiseEqual(Array(reloaded.parameters.values.buffer), Array(straight.parameters.values.buffer))
    }

    /// A resumed run's wall_time and train_time go on from its checkpoint's, and max_train_time counts
    /// the whole run: a checkpoint that says 1,000 s were trained stops a 500 s run at the next step.
    func testResumedClocksGoOnFromTheCheckpoint() throws {
        try trainer(try config("clocks"), freshModel()).train(loop: quiet(stopAfter: 4))
        let stateURL = dir.appendingPathComponent("clocks/checkpoint-4/trainer_state.json")
        var state = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stateURL)) as? [String: Any])
        let written = try XCTUnwrap(state["clocks"] as? [String: Double])
        XCTAssertGreaterThan(try XCTUnwrap(written["wall_time"]), 0)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(written["wall_time"]), try XCTUnwrap(written["train_time"]))
        state["clocks"] = ["wall_time": 1200.0, "train_time": 1000.0]
        try JSONSerialization.data(withJSONObject: state).write(to: stateURL)

        let summary = try trainer(try config("clocks", ["max_train_time=500"]), freshModel()).train(resume: true, loop: quiet())
        XCTAssertEqual(summary.steps, 5)
        XCTAssertEqual(summary.stopReason, "max_train_time")
        let last = try XCTUnwrap(String(contentsOf: dir.appendingPathComponent("clocks/metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double] })
        XCTAssertEqual(last["step"], 5)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(last["train_time"]), 1000)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(last["wall_time"]), 1200)
    }

    /// A checkpoint whose trainer_state.json names another step than its folder, or a negative
    /// one, is refused rather than trusted.
    func testResumeRefusesAStateThatDisagreesWithItsFolder() throws {
        for (step, message) in [("3", "global_step 3 but the folder is checkpoint-4"), ("-3", "field 'global_step' missing or malformed")] {
            let output = "bad\(step)"
            try trainer(try config(output), freshModel()).train(loop: quiet(stopAfter: 4))
            let stateURL = dir.appendingPathComponent("\(output)/checkpoint-4/trainer_state.json")
            let text = try String(contentsOf: stateURL, encoding: .utf8)
                .replacingOccurrences(of: "\"global_step\" : 4", with: "\"global_step\" : \(step)")
            try text.write(to: stateURL, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try trainer(try config(output), freshModel()).train(resume: true, loop: quiet())) { error in
                XCTAssertEqual("\(error)", "\(stateURL.path): \(message)")
            }
        }
    }

    /// An output_dir that is a file, under one, or in a kernel file system is refused with its path
    /// and what it is, before any step; a missing folder is created with its parents.
    func testOutputDirMustBeAWritableFolder() throws {
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let cases = [(file.path, "it is a file"), (file.path + "/sub/run", "it cannot be created (\(file.path) is a file)"),
                     ("/proc/grpo-run", "it is inside /proc, a kernel file system"), ("/sys/run", "it is inside /sys, a kernel file system")]
        for (path, reason) in cases {
            XCTAssertThrowsError(try trainer(try config("unused", ["output_dir=\(path)"]), freshModel()).train(loop: quiet())) { error in
                XCTAssertTrue(error is CheckpointError, "\(path): \(error)")
                XCTAssertEqual("\(error)", "\(path): cannot write: output_dir must be a writable folder; \(reason)")
            }
        }
        let nested = dir.appendingPathComponent("new/nested/run")
        XCTAssertEqual(try TrainingCheckpoint.outputFolder(nested.path).path, nested.path)
        XCTAssertEqual(TrainingCheckpoint.isFolder(nested), true)
    }

    func testLossFallsAndKeepsTheLastCheckpoints() throws {
        let t = try trainer(try config("falls", ["max_steps=60", "save_steps=20", "save_total_limit=2", "learning_rate=0.003",
                                                 "eval_on_start=true"]), freshModel())
        let evaluations = try t.train(loop: quiet()).evaluations
        XCTAssertEqual(evaluations.map(\.step), [0, 60])
        let (before, after) = (try XCTUnwrap(evaluations.first?.metrics["eval/loss"]), try XCTUnwrap(evaluations.last?.metrics["eval/loss"]))
        XCTAssertLessThan(after, before * 0.7, "held-out loss \(before) -> \(after)")
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("falls")).map(\.step), [40, 60])
    }

    /// stop_at_eval_accuracy ends the run, with a checkpoint, at the first evaluation that reaches it;
    /// an evaluation below it changes nothing. (The verifier stands in for the model's accuracy.)
    func testStopsAtTheTargetAccuracy() throws {
        let extra = ["eval_file=unused", "eval_steps=3", "stop_at_eval_accuracy=0.5"]
        let stopped = try trainer(try config("stop", extra), freshModel()) { _, columns in columns["answer"]?.stringValue != nil }
        let stoppedRun = try stopped.train(loop: quiet())
        XCTAssertEqual(stoppedRun.steps, 3)
        XCTAssertEqual(stoppedRun.evaluations.map { $0.metrics["eval/greedy"] }, [1])
        XCTAssertNotNil(stoppedRun.stopReason)
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("stop")).map(\.step), [3])

        let full = try trainer(try config("full", extra), freshModel()) { _, _ in false }
        let fullRun = try full.train(loop: quiet())
        XCTAssertEqual(fullRun.steps, 8)
        XCTAssertEqual(fullRun.evaluations.map(\.step), [3, 6, 8])
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("full")).map(\.step), [4, 8])

        XCTAssertThrowsError(try config("x", ["eval_file=e", "stop_at_eval_accuracy=1.5"])) { error in
            XCTAssertTrue("\(error)".contains("stop_at_eval_accuracy") && "\(error)".contains("1.5"), "\(error)")
        }
        XCTAssertThrowsError(try config("x", ["stop_at_eval_accuracy=0.4"])) { error in
            XCTAssertTrue("\(error)".contains("needs eval_file"), "\(error)")
        }
    }
}
