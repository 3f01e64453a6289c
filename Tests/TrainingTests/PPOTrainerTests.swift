import Foundation
import Rewards
import Tasks
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Training

final class PPOTrainerTests: XCTestCase {
    var dir: URL!
    var fixture: GRPOFixture { GRPOFixture(dir: dir) }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-ppo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func config(_ name: String, _ extra: [String] = []) throws -> PPOConfig {
        try PPOConfig.resolve(TestSettings.entries([
            "model=unused", "train_file=unused", "output_dir=\(dir.appendingPathComponent(name).path)",
            "per_device_train_batch_size=4", "gradient_accumulation_steps=2", "num_mini_batches=2", "num_ppo_epochs=2",
            "response_length=6", "learning_rate=0.003", "max_steps=2", "save_steps=1", "eval_on_start=false", "temperature=1.0",
        ] + extra))
    }

    func trainer(_ config: PPOConfig, policy: DecoderModel, valueSeed: UInt64 = 5, rewards: [any Reward] = [HasDigitReward()]) throws -> PPOTrainer {
        try PPOTrainer(config: config, policy: policy, reference: fixture.model(), value: policy.scoreModel(seed: valueSeed),
                       codec: CharCodec(), prompts: try fixture.prompts(),
                       rewards: RewardScorer(runner: RewardRunner(rewards: rewards), maxUnjudgeableSteps: 3), tokenizerSource: nil)
    }

    /// One update changes every tensor of the policy and of the value model and logs TRL's PPO metrics.
    func testOneUpdateTrainsBothModels() throws {
        for (i, extra) in [["kl_estimator=k1"], ["kl_estimator=k3", "whiten_rewards=true", "missing_eos_penalty=1.0", "num_mini_batches=1"]].enumerated() {
            let policy = fixture.model()
            let t = try trainer(try config("one-\(i)", extra + ["max_steps=1"]), policy: policy)
            let before = (Array(policy.parameters.values.buffer), Array(t.value.parameters.values.buffer))
            var seen: [String: Double] = [:]
            try t.train(loop: fixture.quietLoop { _, m in seen = m })
            for (model, start) in [(policy, before.0), (t.value, before.1)] {
                for (p, range) in zip(model.parameters.tensors, model.parameters.ranges) {
                    XCTAssertNotEqual(Array(start[range]), p.values, "\(extra): \(p.name) did not change")
                }
            }
            for key in ["objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
                        "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg",
                        "policy/entropy_avg", "val/ratio", "val/ratio_var", "val/num_eos_tokens", "learning_rate", "reward",
                        "time/generate", "time/reference", "time/value", "time/policy", "time/optimizer"] {
                let v = try XCTUnwrap(seen[key], "\(extra): metric \(key)")
                XCTAssertTrue(v.isFinite, "\(extra): \(key) = \(v)")
            }
            // The first mini-batch of the first epoch runs on the rollout's own policy: ratio 1 there.
            XCTAssertLessThan(abs(try XCTUnwrap(seen["val/ratio"]) - 1), 0.5, "\(extra)")
        }
    }

    /// Four updates straight equal two, a stop, and a resume into models that start from other
    /// weights: both models, both optimizers, the generators and the data cursor come back.
    func testResumeRestoresBothModelsAndOptimizers() throws {
        let extra = ["max_steps=4", "save_steps=2"]
        let straight = try trainer(try config("straight", extra), policy: fixture.model())
        var straightLosses: [Int: Double] = [:]
        try straight.train(loop: fixture.quietLoop { step, m in straightLosses[step] = m["loss"] })
        var stopping = fixture.quietLoop()
        stopping.stopAfter = 2
        try trainer(try config("split", extra), policy: fixture.model()).train(loop: stopping)
        let resumed = try trainer(try config("split", extra), policy: fixture.model(seed: 77), valueSeed: 78)
        var resumedLosses: [Int: Double] = [:]
        try resumed.train(resume: true, loop: fixture.quietLoop { step, m in resumedLosses[step] = m["loss"] })
        assertBitwiseEqual(Array(resumed.policy.parameters.values.buffer), Array(straight.policy.parameters.values.buffer), "policy")
        assertBitwiseEqual(Array(resumed.value.parameters.values.buffer), Array(straight.value.parameters.values.buffer), "value model")
        assertBitwiseEqual(Array(resumed.valueOptimizer.v.buffer), Array(straight.valueOptimizer.v.buffer), "value model's moments")
        XCTAssertEqual(resumedLosses, straightLosses.filter { $0.key > 2 })
        // The checkpoint's value model is a sequence-classification folder.
        let saved = try ModelCheckpoint.load(directory: dir.appendingPathComponent("split/checkpoint-4/value_model"))
        XCTAssertEqual(saved.config.scoreLabels, 1)
        assertBitwiseEqual(Array(saved.parameters.values.buffer), Array(straight.value.parameters.values.buffer), "saved value model")
    }

    /// PPO raises the mean score of a toy objective (completions that start with 7).
    func testPPOLearnsAToyObjective() throws {
        let policy = DecoderModel(config: fixture.model().config)
        policy.initialize(seed: 2, std: 0.1)
        let prompts = try (0..<8).map { i in TrainingPrompt(text: "\(i)=", ids: try CharCodec().encode("\(i)="), columns: [:]) }
        let config = try config("learn", ["max_steps=40", "per_device_train_batch_size=16", "gradient_accumulation_steps=1",
                                          "num_mini_batches=1", "response_length=3", "learning_rate=0.01", "kl_coef=0.0", "save_steps=1000"])
        let t = try PPOTrainer(config: config, policy: policy, reference: DecoderModel(config: policy.config), value: policy.scoreModel(seed: 3),
                               codec: CharCodec(), prompts: prompts,
                               rewards: RewardScorer(runner: RewardRunner(rewards: [SevenReward()]), maxUnjudgeableSteps: 3), tokenizerSource: nil)
        var scores: [Double] = []
        try t.train(loop: fixture.quietLoop { _, m in scores.append(m["objective/scores"] ?? 0) })
        let early = scores.prefix(5).reduce(0, +) / 5, late = scores.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(late, early + 0.3, "score \(early) -> \(late): \(scores)")
    }
}

/// A reward model scores prompt + completion at the last token, in batches of any size.
final class RewardModelRewardTests: XCTestCase {
    func testScoresAtTheLastTokenInAnyBatching() throws {
        let fixture = GRPOFixture(dir: FileManager.default.temporaryDirectory)
        let model = fixture.model().scoreModel(seed: 4, std: 0.5)
        let completions = ["12", "7", "345"], prompts = ["1+1=", "3+4=", "10+2="]
        let columns: [[String: JSONValue]] = prompts.map { ["prompt": .string($0)] }
        var expected: [Double] = []
        for (p, c) in zip(prompts, completions) {
            let ids = try CharCodec().encode(p + c)
            let out = model.scores(Tape(recording: false), .init(ids: ids, attentionMask: ids.map { _ in 1 }, batch: 1, time: ids.count),
                                   positions: [ids.count - 1])
            expected.append(Double(out.values[0]))
        }
        for batch in [1, 2, 64] {
            let reward = try RewardModelReward(name: "rm", model: model, codec: CharCodec(), batchSize: batch)
            let scores = try reward.score(completions: completions, columns: columns).map { $0 ?? .nan }
            assertElementsClose(scores, expected, accuracy: 1e-5, "batch \(batch)")
        }
        XCTAssertGreaterThan(Set(expected.map { ($0 * 1e4).rounded() }).count, 1, "the rows score differently")
        // With a selector (rm:PATH?kind=general) only the selected rows are judged, with the same scores.
        let selective = try SelectedReward(try RewardModelReward(name: "rm", model: model, codec: CharCodec()), column: "kind", value: "general")
        var kinds = columns
        kinds[0]["kind"] = "general"
        kinds[2]["kind"] = "general"
        kinds[1]["kind"] = "math"
        let selected = try selective.score(completions: completions, columns: kinds)
        XCTAssertNil(selected[1])
        assertElementsClose([selected[0] ?? .nan, selected[2] ?? .nan], [expected[0], expected[2]], accuracy: 1e-5)
        XCTAssertEqual(selective.name, "rm?kind=general")
        XCTAssertThrowsError(try RewardModelReward(name: "rm", model: fixture.model(), codec: CharCodec())) { error in
            XCTAssertTrue("\(error)".contains("sequence-classification"), "\(error)")
        }
    }
}
