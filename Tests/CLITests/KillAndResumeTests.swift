import Foundation
import XCTest

/// SIGKILL at random moments (half of them during a checkpoint write), resume, and compare with an
/// uninterrupted run, for each trainer: SFT, GRPO, PPO and the reward model. `make test` kills each
/// once (seed 1); GRPO_KILLS=N kills each N times (the README's figure: GRPO_KILLS=6, 24 kills),
/// GRPO_KILL_SEED picks other moments. GRPO and SFT also run with LoRA adapters (with dropout, whose
/// mask counter the checkpoint holds).
final class KillAndResumeTests: XCTestCase {
    func testKilledRunsResumeExactly() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let environment = ProcessInfo.processInfo.environment
        let kills = Int(environment["GRPO_KILLS"] ?? "") ?? 1, seed = UInt64(environment["GRPO_KILL_SEED"] ?? "") ?? 1
        let tiny = try TinyRun("kills")
        defer { tiny.remove() }
        let data = try GRPOBinary.run(["data", "preferences", "--train", "200", "--test", "20", "--seed", "3", "--out", tiny.dir.path])
        XCTAssertEqual(data.status, 0, data.err)

        // A constant learning rate and settings small enough for a run of a few seconds.
        let common = ["model=\(tiny.model.path)", "learning_rate=0.001", "lr_scheduler_type=constant"]
        let lora = ["use_peft=true", "lora_r=4", "lora_alpha=8", "lora_dropout=0.1", "lora_target_modules=all-linear"]
        let runs: [(trainer: String, steps: Int, settings: [String])] = [
            ("sft", 40, ["train_file=\(tiny.train.path)", "per_device_train_batch_size=8"]),
            ("grpo", 16, ["train_file=\(tiny.train.path)", "per_device_train_batch_size=8", "num_generations=4",
                          "max_completion_length=8", "log_completions_steps=0"]),
            ("ppo", 12, ["train_file=\(tiny.train.path)", "per_device_train_batch_size=4", "gradient_accumulation_steps=2",
                         "response_length=8"]),
            ("rm", 30, ["train_file=\(tiny.dir.appendingPathComponent("pairs-train.jsonl").path)", "per_device_train_batch_size=4"]),
            ("grpo", 16, ["train_file=\(tiny.train.path)", "per_device_train_batch_size=8", "num_generations=4", "beta=0.04",
                          "max_completion_length=8", "log_completions_steps=0", "reward_funcs=\(try tiny.lengthRewardCommand())"] + lora),
            ("sft", 40, ["train_file=\(tiny.train.path)", "per_device_train_batch_size=8"] + lora),
        ]
        var figures: [String] = []
        for (index, run) in runs.enumerated() {
            let label = run.settings.contains("use_peft=true") ? run.trainer + "-lora" : run.trainer
            let harness = KillHarness(trainer: run.trainer, settings: common + run.settings, maxSteps: run.steps, scratch: tiny.dir, label: label)
            let outcome = try harness.run(kills: kills, seed: seed &+ UInt64(index))
            XCTAssertEqual(outcome.kills, kills, "\(label): every kill fired")
            XCTAssertTrue(outcome.equal, "\(label) killed \(outcome.kills) times and resumed vs uninterrupted: \(outcome.mismatch)")
            figures.append("\(label) \(outcome.equal ? outcome.kills : 0)/\(outcome.kills) (\(outcome.duringWrites) during a checkpoint write)")
        }
        print("kills survived / tried: " + figures.joined(separator: ", "))
    }
}
