import Foundation
import XCTest

/// `grpo recipe r1`: every stage of a small recipe runs in order into its folder, the table covers the
/// evaluated stages, a rerun skips finished stages and resumes an unfinished one, and a bad file is
/// named field by field.
final class R1RecipeTests: XCTestCase {
    static var recipe: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("recipes/r1.yaml")
    }

    /// The committed recipe with a few steps per stage and little data.
    func smallRecipe() throws -> String {
        var text = try String(contentsOf: Self.recipe, encoding: .utf8)
        for (from, to) in [("max_steps: 800", "max_steps: 2"), ("save_steps: 800", "save_steps: 2"), ("max_steps: 400", "max_steps: 2"),
                           ("save_steps: 400", "save_steps: 2"), ("max_steps: 120", "max_steps: 2"), ("save_steps: 120", "save_steps: 2"),
                           ("eval_steps: 120", "eval_steps: 2"), ("max_steps: 1000", "max_steps: 2"), ("save_steps: 1000", "save_steps: 2"),
                           ("prompts: 12000", "prompts: 8"), ("_train: 6000", "_train: 60"), ("_train: 1500", "_train: 40"),
                           ("_test: 100", "_test: 6"), ("general_test: 50", "general_test: 4"), ("cold_start_per_task: 4000", "cold_start_per_task: 20"),
                           ("vocab_size: 1024", "vocab_size: 400"), ("per_device_train_batch_size: 64", "per_device_train_batch_size: 16")] {
            XCTAssertTrue(text.contains(from), from)
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    func testStagesRunInOrderAndARerunSkipsThem() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-r1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("r1.yaml")
        try smallRecipe().write(to: config, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run")
        let first = try GRPOBinary.run(["recipe", "r1", "--config", config.path, "--out", out.path])
        XCTAssertEqual(first.status, 0, first.err + first.out)
        let stages = ["cold_start", "reasoning_rl", "rejection_sampling", "reward_model", "sft_mix", "final_rl"]
        var order: [String.Index] = []
        for (i, stage) in stages.enumerated() {
            let line = "stage \(i + 1)/6 \(stage): "
            let found = try XCTUnwrap(first.out.range(of: line), line)
            order.append(found.lowerBound)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("\(stage)/stage.json").path), stage)
        }
        XCTAssertEqual(order, order.sorted(), "stages run in the file's order")
        XCTAssertTrue(first.out.contains("sample from reasoning_rl"), first.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("final_rl/checkpoint-2/model.safetensors").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("reward_model/checkpoint-2/config.json").path))
        let table = try String(contentsOf: out.appendingPathComponent("stages.md"), encoding: .utf8)
        for stage in ["cold_start", "reasoning_rl", "sft_mix", "final_rl"] { XCTAssertTrue(table.contains("| \(stage) | "), table) }
        XCTAssertEqual(table.split(separator: "\n").count, 6, table)
        // The mixed SFT rows hold the sampled rows and the general ones.
        let mix = try String(contentsOf: out.appendingPathComponent("sft_mix/train.jsonl"), encoding: .utf8)
        XCTAssertTrue(mix.contains("\"kind\":\"general\""))

        // A rerun skips every finished stage; one without stage.json resumes from its checkpoint.
        try FileManager.default.removeItem(at: out.appendingPathComponent("final_rl/stage.json"))
        let second = try GRPOBinary.run(["recipe", "r1", "--config", config.path, "--out", out.path])
        XCTAssertEqual(second.status, 0, second.err)
        // The data and the five finished stages.
        XCTAssertEqual(second.out.components(separatedBy: "done before").count - 1, 6, second.out)
        XCTAssertTrue(second.out.contains("resuming final_rl from its latest checkpoint"), second.out)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("stages.md"), encoding: .utf8), table, "cached figures")
    }

    func testABadRecipeNamesTheField() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-r1-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try smallRecipe()
        for (from, to, message) in [("trainer: sft", "trainer: dpo", "`stages[0].trainer` expected sft, grpo, rm, sample, got 'dpo'"),
                                    ("model: cold_start", "model: final_rl", "`stages[1].model` expected base or an earlier training stage, got 'final_rl'"),
                                    ("train_file: pairs\n", "train_file: pears\n", "`stages[3].train_file` expected datasets among"),
                                    ("vocab_size: 400", "vocab_size: 10", "`data.vocab_size` expected an integer in 300...100000, got '10'"),
                                    ("judge: reward_model", "judge: sft_mix", "`judge` expected the name of an rm stage")] {
            XCTAssertTrue(base.contains(from), from)
            let config = dir.appendingPathComponent("bad.yaml")
            try base.replacingOccurrences(of: from, with: to).write(to: config, atomically: true, encoding: .utf8)
            let result = try GRPOBinary.run(["recipe", "r1", "--config", config.path, "--out", dir.appendingPathComponent("run").path])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.err.contains("\(config.path): \(message)"), "\(message): \(result.err)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/data").path), "nothing runs before the file is checked")
        }
    }
}
