import Foundation
import Tasks
import TensorCore
import Transformer
import XCTest
@testable import Training

/// A character-level codec for tests: one id per character of a small alphabet, then the end token.
struct CharCodec: TextCodec {
    static let alphabet = Array("0123456789+-*=<>/abcdefghijklmnopqrstuvwxyz ")
    var eosTokenIDs: Set<Int32> { [Int32(Self.alphabet.count)] }
    var vocabSize: Int { Self.alphabet.count + 1 }

    func encode(_ text: String) throws -> [Int32] {
        try text.map { c in
            guard let i = Self.alphabet.firstIndex(of: c) else { throw ConfigError.badOverride("char \(c)") }
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
        try SFTConfig(SFTConfig.schema.resolve(file: nil, overrides: [
            "model=unused", "train_file=unused", "output_dir=\(dir.appendingPathComponent(output).path)",
            "max_steps=8", "per_device_train_batch_size=4", "gradient_accumulation_steps=2", "learning_rate=0.01",
            "warmup_steps=2", "save_steps=4", "logging_steps=1", "eval_steps=0", "eval_samples=8", "eval_max_new_tokens=4",
            "weight_decay=0.01",
        ] + extra))
    }

    func freshModel() -> DecoderModel {
        let config = DecoderConfig(modelType: "qwen2", vocabSize: CharCodec().vocabSize, hiddenSize: 32, intermediateSize: 64,
                                   layerCount: 2, headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true,
                                   eosTokenIDs: [CharCodec.alphabet.count])
        let model = DecoderModel(config: config)
        model.initialize(seed: 3)
        return model
    }

    func trainer(_ config: SFTConfig, _ model: DecoderModel,
                 verify: @escaping (String, [String: JSONValue]) -> Bool? = { text, columns in text == columns["answer"]?.stringValue })
        throws -> SFTTrainer {
        let t = try SFTTrainer(config: config, model: model, codec: CharCodec(), train: additionExamples(40, seed: 1),
                               eval: additionExamples(8, seed: 2), tokenizerSource: nil, verify: verify)
        t.log = { _ in }
        return t
    }

    /// metrics.jsonl without the wall-clock figures (which differ between runs).
    func metricLines(_ output: String) throws -> [[String: Double]] {
        try String(contentsOf: dir.appendingPathComponent("\(output)/metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line in
                var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Double]
                for key in ["step_time", "tokens_per_second", "wall_time"] { object[key] = nil }
                return object
            }
    }

    /// N steps in one go equal N/2 steps, a stop, and a resume to N: losses and weights bitwise.
    func testResumeIsBitwiseExact() throws {
        let straight = freshModel()
        try trainer(try config("straight"), straight).run(resume: false)

        let interrupted = freshModel()
        try trainer(try config("split"), interrupted).run(resume: false, stopAt: 4)
        // A new process would start from scratch weights; the checkpoint must bring everything back.
        let resumed = freshModel()
        try trainer(try config("split"), resumed).run(resume: true)

        XCTAssertEqual(Array(resumed.parameters.values.buffer), Array(straight.parameters.values.buffer))
        XCTAssertEqual(try metricLines("split"), try metricLines("straight"))
        let checkpoints = try TrainingCheckpoint.list(dir.appendingPathComponent("split")).map(\.step)
        XCTAssertEqual(checkpoints, [4, 8])
        // The checkpoint folder is a model folder that loads.
        let reloaded = try ModelCheckpoint.load(directory: dir.appendingPathComponent("split/checkpoint-8"))
        XCTAssertEqual(Array(reloaded.parameters.values.buffer), Array(straight.parameters.values.buffer))
    }

    func testLossFallsAndKeepsTheLastCheckpoints() throws {
        let model = freshModel()
        let t = try trainer(try config("falls", ["max_steps=60", "save_steps=20", "save_total_limit=2", "learning_rate=0.003"]), model)
        let before = t.evaluate()
        try t.run(resume: false)
        let after = t.evaluations.last!
        XCTAssertLessThan(after.loss, before.loss * 0.7, "held-out loss \(before.loss) -> \(after.loss)")
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("falls")).map(\.step), [40, 60])
    }

    /// stop_at_eval_accuracy ends the run, with a checkpoint, at the first evaluation that reaches it;
    /// an evaluation below it changes nothing. (The verifier stands in for the model's accuracy.)
    func testStopsAtTheTargetAccuracy() throws {
        let extra = ["eval_file=unused", "eval_steps=3", "stop_at_eval_accuracy=0.5"]
        let stopped = try trainer(try config("stop", extra), freshModel()) { _, columns in columns["answer"]?.stringValue != nil }
        try stopped.run(resume: false)
        XCTAssertEqual(stopped.state.step, 3)
        XCTAssertEqual(stopped.evaluations.map(\.accuracy), [1])
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("stop")).map(\.step), [3])

        let full = try trainer(try config("full", extra), freshModel()) { _, _ in false }
        try full.run(resume: false)
        XCTAssertEqual(full.state.step, 8)
        XCTAssertEqual(full.evaluations.map(\.step), [3, 6, 8])
        XCTAssertEqual(try TrainingCheckpoint.list(dir.appendingPathComponent("full")).map(\.step), [4, 8])

        XCTAssertThrowsError(try config("x", ["eval_file=e", "stop_at_eval_accuracy=1.5"])) { error in
            XCTAssertTrue("\(error)".contains("stop_at_eval_accuracy") && "\(error)".contains("1.5"), "\(error)")
        }
        XCTAssertThrowsError(try config("x", ["stop_at_eval_accuracy=0.4"])) { error in
            XCTAssertTrue("\(error)".contains("needs eval_file"), "\(error)")
        }
    }

    func testBadConfigsAreNamed() throws {
        XCTAssertThrowsError(try SFTConfig.schema.resolve(file: nil, overrides: ["learnig_rate=0.1"])) { error in
            XCTAssertEqual("\(error)", "--set: unknown key 'learnig_rate'; did you mean 'learning_rate'?")
        }
        XCTAssertThrowsError(try SFTConfig.schema.resolve(file: nil, overrides: ["max_steps=ten"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'max_steps': expected an integer, got 'ten'")
        }
        XCTAssertThrowsError(try SFTConfig.schema.resolve(file: nil, overrides: ["lr_scheduler_type=step"])) { error in
            XCTAssertTrue("\(error)".contains("one of constant, linear, cosine"))
        }
        let yaml = dir.appendingPathComponent("bad.yaml")
        try "model: m\ntrain_file: t\nwarmup_step: 3\n".write(to: yaml, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SFTConfig.schema.resolve(file: yaml, overrides: [])) { error in
            XCTAssertEqual("\(error)", "\(yaml.path): unknown key 'warmup_step'; did you mean 'warmup_steps'?")
        }
        XCTAssertThrowsError(try SFTConfig(SFTConfig.schema.resolve(file: nil, overrides: ["model=m"]))) { error in
            XCTAssertTrue("\(error)".contains("train_file"))
        }
    }
}
