import Foundation
import Tracking
import XCTest

/// `grpo train`, `generate` and `eval` as a user meets them: bad settings, a tokenizer that does
/// not fit the model, --print-config, and the help text.
final class TrainCommandTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary at \(GRPOBinary.url.path)")
    }

    /// A misspelt key, a wrong type and a value out of range each end the command with a non-zero
    /// status and an error naming the key, the expected and the given value; nothing traps.
    func testBadSettingsAreNamed() throws {
        let run = try TinyRun("settings")
        defer { run.remove() }
        let cases: [(String, String)] = [
            ("learnig_rate=0.1", "unknown key 'learnig_rate'; did you mean 'learning_rate'?"),
            ("max_steps=ten", "key 'max_steps': expected an integer in [1, 100000000], got ten"),
            ("adam_beta2=1.5", "key 'adam_beta2': expected a number in [0, 1), got 1.5"),
            ("loss_type=ppo", "key 'loss_type': expected one of grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo, vespo, got ppo"),
        ]
        for (setting, message) in cases {
            let result = try GRPOBinary.run(["train", "grpo"] + run.settings("grpo", output: "bad") + ["--set", setting])
            XCTAssertNotEqual(result.status, 0, setting)
            XCTAssertTrue(result.err.contains(message), "\(setting): \(result.err)")
            XCTAssertFalse(result.err.contains("Fatal error"), result.err)
        }
        let yaml = run.dir.appendingPathComponent("bad.yaml")
        try "model: \(run.model.path)\ntrain_file: \(run.train.path)\nwarmup_step: 3\n".write(to: yaml, atomically: true, encoding: .utf8)
        let file = try GRPOBinary.run(["train", "sft", "--config", yaml.path])
        XCTAssertNotEqual(file.status, 0)
        XCTAssertTrue(file.err.contains("\(yaml.path): unknown key 'warmup_step'; did you mean 'warmup_steps'?"), file.err)
    }

    /// A model whose vocab_size is smaller than its tokenizer's: train, generate and eval refuse it
    /// with both sizes named, instead of reaching an id past the embedding table.
    func testATokenizerThatDoesNotFitTheModelIsRefused() throws {
        let run = try TinyRun("vocab", vocabulary: 260)
        defer { run.remove() }
        let message = "the tokenizer has \(run.tokenizer.vocabSize) token ids but the model's vocab_size is 260"
        let commands: [[String]] = [
            ["train", "sft"] + run.settings("sft", output: "sft"),
            ["train", "grpo"] + run.settings("grpo", output: "grpo"),
            ["generate", "--model", run.model.path, "--prompt", "12+34="],
            ["eval", "--model", run.model.path, "--data", run.test.path],
        ]
        for command in commands {
            let result = try GRPOBinary.run(command)
            XCTAssertNotEqual(result.status, 0, "\(command)")
            XCTAssertTrue(result.err.contains(message), "\(command[0]): \(result.err)")
        }
    }

    /// --print-config prints every key as YAML; fed back with --config it prints the same.
    func testPrintConfigReadsBack() throws {
        let run = try TinyRun("print")
        defer { run.remove() }
        for trainer in ["sft", "grpo"] {
            let first = try GRPOBinary.run(["train", trainer, "--print-config"] + run.settings(trainer, output: "p", ["learning_rate=3e-4"]))
            XCTAssertEqual(first.status, 0, first.err)
            XCTAssertTrue(first.out.contains("learning_rate: 0.0003\n"), first.out)
            let yaml = run.dir.appendingPathComponent("\(trainer).yaml")
            try first.out.write(to: yaml, atomically: true, encoding: .utf8)
            let second = try GRPOBinary.run(["train", trainer, "--print-config", "--config", yaml.path])
            XCTAssertEqual(second.status, 0, second.err)
            XCTAssertEqual(second.out, first.out, trainer)
        }
    }

    /// The help of each trainer matches the committed snapshot (regenerate with
    /// `.build/release/grpo train X --help > Tests/CLITests/Snapshots/train-X-help.txt` when a key changes).
    func testHelpMatchesTheSnapshots() throws {
        let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
        for trainer in ["sft", "grpo", "ppo", "rm"] {
            let result = try GRPOBinary.run(["train", trainer, "--help"])
            XCTAssertEqual(result.status, 0, result.err)
            let expected = try String(contentsOf: snapshots.appendingPathComponent("train-\(trainer)-help.txt"), encoding: .utf8)
            XCTAssertEqual(result.out, expected, "grpo train \(trainer) --help changed; update the snapshot if that was meant")
        }
    }

    /// Training runs end to end from the command line and its output reaches a pipe line by line.
    func testTrainingRunsAndPrintsToAPipe() throws {
        let run = try TinyRun("runs")
        defer { run.remove() }
        for trainer in ["sft", "grpo", "ppo"] {
            let result = try GRPOBinary.run(["train", trainer] + run.settings(trainer, output: trainer))
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertTrue(result.out.contains("2/2"), result.out)
            XCTAssertTrue(result.out.contains("saved \(run.dir.appendingPathComponent(trainer).path)/checkpoint-2"), result.out)
        }
        // PPO's checkpoint holds the value model as a sequence-classification folder.
        let value = run.dir.appendingPathComponent("ppo/checkpoint-2/value_model/config.json")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: value)) as? [String: Any])
        XCTAssertEqual(config["architectures"] as? [String], ["Qwen2ForSequenceClassification"])
    }

    /// gradient_checkpointing changes no bit of a run: SFT, GRPO and PPO (policy and value) end with
    /// the same metrics, weights and AdamW moments with it as without.
    func testGradientCheckpointingChangesNoBit() throws {
        let run = try TinyRun("checkpointing")
        defer { run.remove() }
        for trainer in ["sft", "ppo", "grpo"] {
            let outputs = try [false, true].map { checkpointing -> URL in
                let name = "\(trainer)-checkpointing-\(checkpointing)"
                // GRPO: the random model earns no math_answer reward and every completion is truncated
                // at the same length, so PPO's value model scores them (rewards that differ in a group)
                // and truncated completions count in the loss.
                let scorer = run.dir.appendingPathComponent("ppo-checkpointing-false/checkpoint-2/value_model").path
                let own = trainer == "grpo" ? ["reward_funcs=[rm:\(scorer)]", "beta=0.04", "mask_truncated_completions=false"] : []
                let result = try GRPOBinary.run(["train", trainer] + run.settings(trainer, output: name, own + [
                    "gradient_checkpointing=\(checkpointing)", "report_to=[jsonl]", "learning_rate=0.001"]))
                XCTAssertEqual(result.status, 0, result.err)
                return run.dir.appendingPathComponent(name)
            }
            let metrics = try KillHarness.metricLines(outputs[0])
            XCTAssertEqual(metrics, try KillHarness.metricLines(outputs[1]), "\(trainer) metrics")
            XCTAssertTrue(metrics.allSatisfy { ($0["grad_norm"] ?? $0["policy/grad_norm"] ?? 0) > 0 }, "\(trainer): a step without a gradient: \(metrics)")
            let files = ["model.safetensors", "optimizer.safetensors"]
                + (trainer == "ppo" ? ["value_model/model.safetensors", "value_model/optimizer.safetensors"] : [])
            for file in files {
                let (plain, checkpointed) = try (Data(contentsOf: outputs[0].appendingPathComponent("checkpoint-2/" + file)),
                                                 Data(contentsOf: outputs[1].appendingPathComponent("checkpoint-2/" + file)))
                XCTAssertTrue(plain == checkpointed, "\(trainer): checkpoint-2/\(file) differs with gradient_checkpointing")
            }
        }
    }

    /// A GRPO run writes TensorBoard events whose every scalar equals metrics.jsonl in float32,
    /// completions.jsonl with each completion's rewards and advantage, and `grpo report` reads it.
    func testRunLeavesEventsCompletionsAndAReport() throws {
        let run = try TinyRun("tracking")
        defer { run.remove() }
        let output = run.dir.appendingPathComponent("grpo")
        let result = try GRPOBinary.run(["train", "grpo"] + run.settings("grpo", output: "grpo", ["log_completions=true",
                                                                                                  "reward_funcs=[math_answer, format]"]))
        XCTAssertEqual(result.status, 0, result.err)
        let lines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let files = EventFileReader.files(in: output)
        XCTAssertEqual(files.count, 1)
        let events = try EventFileReader.read(try XCTUnwrap(files.first)).events.filter { !$0.scalars.isEmpty }
        XCTAssertEqual(events.count, lines.count)
        var compared = 0
        for (event, line) in zip(events, lines) {
            XCTAssertEqual(Int(event.step), line["step"] as? Int)
            let values = Dictionary(event.scalars.map { ($0.tag, $0.value) }, uniquingKeysWith: { a, _ in a })
            for (key, value) in line where key != "step" {
                guard let number = value as? Double else { continue }
                // Within one float ulp: corelibs' JSONSerialization does not always parse a decimal to the nearest
                // Double (Scripts/check_tensorboard.py checks exact equality with Python's parser).
                XCTAssertEqual(values[EventFileWriter.tag(key)] ?? .nan, Float(number), accuracy: Float(number).ulp, key)
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 40)
        let completions = try String(contentsOf: output.appendingPathComponent("completions.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(completions.count, 2 * 8, "every completion of both logged steps")
        let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(completions[0].utf8)) as? [String: Any])
        XCTAssertEqual(row["step"] as? Int, 1)
        XCTAssertEqual((row["rewards"] as? [String: Any])?.keys.sorted(), ["format", "math_answer"])
        XCTAssertNotNil(row["advantage"] as? Double)
        XCTAssertNotNil(row["completion"] as? String)

        let page = run.dir.appendingPathComponent("report.html")
        let report = try GRPOBinary.run(["report", output.path, "--out", page.path])
        XCTAssertEqual(report.status, 0, report.err)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("Reward (mean, band: std)") && html.contains("<polyline"), "plots")
        XCTAssertTrue(html.contains("Sample completions"), "completions table")
        let missing = try GRPOBinary.run(["report", run.dir.appendingPathComponent("nope").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("not a training run"), missing.err)
    }
}
