import Foundation
import Rewards
import Tasks
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Training

/// 1 when the completion contains the digit of the row's `answer` column, else 0.
struct HasDigitReward: Reward {
    let name = "has_digit"
    let weight = 1.0
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        zip(completions, columns).map { text, row in text.contains(row["answer"]?.stringValue ?? "?") ? 1 : 0 }
    }
}

/// A process reward: a first step scored by whether the text starts with 7, a second by its
/// length's parity; nothing to judge in an empty completion.
struct TwoStepReward: ProcessReward {
    let name = "two_steps"
    let weight = 1.0
    func stepScores(completions: [String], columns: [[String: JSONValue]]) throws -> [[(end: Int, reward: Double)]] {
        completions.map { text in
            text.isEmpty ? [] : [(end: text.count / 2, reward: text.hasPrefix("7") ? 1 : 0), (end: text.count, reward: text.count % 2 == 0 ? 0.5 : 0)]
        }
    }
}

/// A reward that throws, or sleeps past any timeout a test sets.
struct BrokenReward: Reward {
    struct Broken: Error, CustomStringConvertible { var description: String { "the grader is broken" } }
    let name: String
    let hangs: Bool
    let weight = 1.0
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        if hangs { Thread.sleep(forTimeInterval: 2) }
        throw Broken()
    }
}

/// A reward that misbehaves without throwing: NaN for every completion, or one score too few.
struct MisbehavingReward: Reward {
    let name: String
    let weight = 1.0
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        name == "nan" ? completions.map { _ in .nan } : completions.dropLast().map { _ in 1 }
    }
}

/// A tiny policy, prompts and rewards for trainer tests.
struct GRPOFixture {
    let dir: URL

    func model(seed: UInt64 = 9) -> DecoderModel {
        let config = DecoderConfig(modelType: "qwen2", vocabSize: CharCodec().vocabSize, hiddenSize: 32, intermediateSize: 64,
                                   layerCount: 2, headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true,
                                   eosTokenIDs: [CharCodec.alphabet.count])
        let m = DecoderModel(config: config)
        m.initialize(seed: seed, std: 0.2)
        return m
    }

    func prompts() throws -> [TrainingPrompt] {
        try (0..<6).map { i in TrainingPrompt(text: "\(i)+\(i)=", ids: try CharCodec().encode("\(i)+\(i)="), columns: ["answer": .string("\(i * 2 % 10)")]) }
    }

    func config(_ name: String, _ extra: [String]) throws -> GRPOConfig {
        try GRPOConfig.resolve(TestSettings.entries([
            "model=unused", "train_file=unused", "output_dir=\(dir.appendingPathComponent(name).path)",
            "per_device_train_batch_size=8", "gradient_accumulation_steps=2", "num_generations=4", "max_completion_length=6",
            "learning_rate=0.01", "max_steps=2", "save_steps=1", "log_completions_steps=0", "eval_on_start=false",
        ] + extra))
    }

    func trainer(_ config: GRPOConfig, policy: DecoderModel, rewards: [any Reward] = [HasDigitReward(), TwoStepReward()],
                 timeout: Double = 30) throws -> GRPOTrainer {
        let reference: DecoderModel? = config.loss.beta != 0 ? model() : nil
        let scorer = RewardScorer(runner: RewardRunner(rewards: rewards, timeout: timeout), maxUnjudgeableSteps: config.rewards.maxUnjudgeableSteps)
        return try GRPOTrainer(config: config, policy: policy, reference: reference, codec: CharCodec(), prompts: try prompts(),
                               rewards: scorer, tokenizerSource: nil)
    }

    /// A run loop that prints nothing; `seen` gets each step's metrics.
    func quietLoop(_ seen: ((Int, [String: Double]) -> Void)? = nil) -> TrainingLoop {
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        if let seen { loop.onStep = seen }
        return loop
    }

    /// A fresh run's view for calling the collector directly.
    func run(_ trainer: GRPOTrainer) -> TrainingRun {
        TrainingRun(state: TrainerState(), rowCount: trainer.rowCount, seed: trainer.config.training.seed, outputDirectory: dir, log: { _ in })
    }
}

final class GRPOTrainerTests: XCTestCase {
    var dir: URL!
    var fixture: GRPOFixture { GRPOFixture(dir: dir) }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-rl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// One step runs, the loss is finite, every parameter tensor changed, and the sampler's logprobs
    /// equal the tape's recomputation — for the main option combinations.
    func testOneStepUpdatesEveryParameter() throws {
        let variants: [[String]] = [
            ["beta=0.04", "loss_type=dapo"],
            ["beta=0", "loss_type=grpo", "scale_rewards=batch", "epsilon_high=0.28"],
            ["beta=0.04", "loss_type=dr_grpo", "importance_sampling_level=sequence", "scale_rewards=none", "num_iterations=2"],
            ["beta=0", "loss_type=bnpo", "advantage=process", "mask_truncated_completions=true", "delta=1.5"],
            ["beta=0", "dynamic_sampling=true", "temperature=0.8", "top_p=0.9"],
        ]
        for (n, extra) in variants.enumerated() {
            let policy = fixture.model()
            let before = Array(policy.parameters.values.buffer)
            let t = try fixture.trainer(try fixture.config("v\(n)", extra + ["max_steps=1"]), policy: policy)
            if n % 2 == 1 { t.packing.sliceTokens = 30 }  // several forward/backward slices per mini-batch
            var seen: [String: Double] = [:]
            try t.train(loop: fixture.quietLoop { _, m in seen = m })
            XCTAssertTrue(try XCTUnwrap(seen["loss"]).isFinite, "\(extra): loss")
            XCTAssertLessThanOrEqual(try XCTUnwrap(seen["logprob_mismatch"]), 1e-5, "\(extra): rollout vs recomputed logprobs")
            for (p, range) in zip(policy.parameters.tensors, policy.parameters.ranges) {
                XCTAssertNotEqual(Array(before[range]), p.values, "\(extra): \(p.name) did not change")
            }
            for key in ["reward", "reward_std", "rewards/has_digit/mean", "rewards/two_steps/std", "frac_reward_zero_std", "entropy",
                        "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "completions/mean_length",
                        "completions/clipped_ratio", "grad_norm", "learning_rate", "step_time", "tokens_per_second",
                        "rewards/has_digit/failures", "rewards/two_steps/timeouts"] {
                XCTAssertNotNil(seen[key], "\(extra): metric \(key)")
            }
            XCTAssertEqual(seen["kl"] != nil, extra.contains("beta=0.04"), "\(extra): kl logged exactly when beta != 0")
        }
    }

    /// Leaving zero-gradient rollouts (zero advantage with beta 0, or masked) out of the policy pass
    /// changes neither the gradient nor the loss and clip metrics, for every loss type and both ratio
    /// levels; the pi_old logprobs are perturbed so ratios leave the clip range.
    func testSkippingZeroGradientRolloutsIsExact() throws {
        let variants: [[String]] = [
            ["loss_type=dapo"], ["loss_type=grpo", "epsilon_high=0.28"], ["loss_type=bnpo", "delta=1.2"],
            ["loss_type=dr_grpo", "importance_sampling_level=sequence"],
        ]
        for extra in variants {
            let config = try fixture.config("skip", extra + ["beta=0", "epsilon=0.1", "mask_truncated_completions=true"])
            let sampler = try fixture.trainer(config, policy: fixture.model())
            var generation = try sampler.collector.collect(fixture.run(sampler))
            var rng = SeededGenerator(seed: 5)
            generation.rollouts = generation.rollouts.enumerated().map { i, r in
                var completion = r.completion
                completion.logprobs = completion.logprobs.map { $0 + Float(rng.nextNormal() * 0.3) }
                // Group 0 carries no signal; rollout 5 is masked; the rest keep their advantages.
                let advantage = i < 4 ? r.advantage.map { _ in 0.0 } : r.advantage.map { $0 + 0.5 }
                return Rollout(prompt: r.prompt, completion: completion, advantage: advantage, referenceLogprobs: nil, lossMask: i != 5)
            }
            var results: [(grads: [Float], metrics: [String: Double])] = []
            for skips in [false, true] {
                let policy = fixture.model()
                let t = try fixture.trainer(config, policy: policy)
                t.skipsZeroGradientRollouts = skips
                let metrics = try t.optimizerStep(generation, step: 0)
                results.append((Array(policy.parameters.grads.buffer), metrics))
            }
            let (all, skipped) = (results[0], results[1])
            XCTAssertEqual(skipped.metrics["frac_policy_skipped"], 5.0 / 16, "\(extra)")
            XCTAssertEqual(all.metrics["frac_policy_skipped"], 0, "\(extra)")
            let scale = try XCTUnwrap(all.grads.map { abs($0) }.max())
            XCTAssertGreaterThan(scale, 0, "\(extra)")
            assertElementsClose(skipped.grads, all.grads, accuracy: 1e-5 * scale, "\(extra): gradient")
            for key in ["loss", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "entropy"] {
                let (a, b) = (try XCTUnwrap(all.metrics[key]), try XCTUnwrap(skipped.metrics[key]))
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(a)), "\(extra): \(key)")
            }
            XCTAssertGreaterThan(try XCTUnwrap(all.metrics["clip_ratio/region_mean"]), 0, "\(extra): the perturbation clips some tokens")
        }
    }

    /// Completions packed into rows that share the prompt (each its own attention segment) give
    /// the logprobs, entropies and parameter gradients of separate prompt + completion rows, for a
    /// whole group per row, an uneven split, and the automatic choice.
    func testPackedGroupsEqualSeparateRows() throws {
        let t = try fixture.trainer(try fixture.config("pack", ["beta=0"]), policy: fixture.model())
        let rollouts = try t.collector.collect(fixture.run(t)).rollouts
        var rng = SeededGenerator(seed: 3)
        let seed = rollouts.flatMap { $0.completion.ids.map { _ in Float(rng.nextNormal()) } }
        func run(_ packing: RowPacking.Packing) -> (lp: [Float], entropy: [Float], grads: [Float], rows: Int) {
            t.packing.packing = packing
            let batch = t.packer.makeBatch(rollouts)
            t.policy.parameters.zeroGrad()
            let tape = Tape()
            let (lp, entropy) = t.policy.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets)
            tape.backward(lp, seed: seed)
            return (lp.values, entropy.values, Array(t.policy.parameters.grads.buffer), batch.input.batch)
        }
        let separate = run(.none)
        XCTAssertEqual(separate.rows, rollouts.count)
        let groups = rollouts.count / 4
        for (packing, rows) in [(RowPacking.Packing.completions(4), groups), (.completions(3), 2 * groups), (.automatic, nil)] {
            let packed = run(packing)
            if let rows { XCTAssertEqual(packed.rows, rows, "\(packing)") } else { XCTAssertLessThan(packed.rows, rollouts.count) }
            assertElementsClose(packed.lp, separate.lp, accuracy: 1e-5, "\(packing): logprobs")
            assertElementsClose(packed.entropy, separate.entropy, accuracy: 1e-5, "\(packing): entropies")
            let scale = try XCTUnwrap(separate.grads.map { abs($0) }.max())
            assertElementsClose(packed.grads, separate.grads, accuracy: 1e-5 * scale, "\(packing): gradients")
        }
    }

    /// The automatic choice packs more completions per row when attention is cheap against the
    /// matmuls (short rows, a wide model) and fewer when completions are long.
    func testCompletionsPerRowFollowsTheCostModel() throws {
        let t = try fixture.trainer(try fixture.config("cost", ["beta=0"]), policy: fixture.model())
        t.packing.packing = .automatic
        let packer = t.packer
        let short = packer.completionsPerRow(prompt: 20, completion: 2, group: 8)
        let long = packer.completionsPerRow(prompt: 20, completion: 60, group: 8)
        XCTAssertGreaterThan(short, long)
        XCTAssertEqual(packer.completionsPerRow(prompt: 1, completion: 500, group: 8), 1, "nothing to share")
        XCTAssertEqual(packer.completionsPerRow(prompt: 20, completion: 5, group: 1), 1)
        t.packing.packing = .none
        XCTAssertEqual(t.packer.completionsPerRow(prompt: 20, completion: 2, group: 8), 1)
    }

    /// Four steps straight equal two steps, a stop, and a resume into a model that starts from other
    /// weights: the checkpoint must bring back the weights, AdamW's moments and step, the sampling
    /// generator and the data cursor (the resumed run's metrics and weights equal the straight run's).
    func testResumeRestoresWeightsMomentsAndGenerators() throws {
        let extra = ["beta=0.04", "max_steps=4", "save_steps=2"]
        let straight = fixture.model()
        var straightMetrics: [Int: Double] = [:]
        try fixture.trainer(try fixture.config("straight", extra), policy: straight)
            .train(loop: fixture.quietLoop { step, m in straightMetrics[step] = m["loss"] })

        var stopping = fixture.quietLoop()
        stopping.stopAfter = 2
        let first = try fixture.trainer(try fixture.config("split", extra), policy: fixture.model())
        try first.train(loop: stopping)
        let saved = first.optimizer

        let resumedModel = fixture.model(seed: 1234)  // other weights: only the checkpoint can make it equal
        let resumed = try fixture.trainer(try fixture.config("split", extra), policy: resumedModel)
        var resumedMetrics: [Int: Double] = [:]
        let (state, _) = try TrainingCheckpoint.resume(resumed.checkpointParts, outputDirectory: dir.appendingPathComponent("split"))
        XCTAssertEqual(state.step, 2)
        XCTAssertEqual(resumed.optimizer.step, saved.step, "AdamW's step")
        assertBitwiseEqual(Array(resumed.optimizer.m.buffer), Array(saved.m.buffer), "first moments")
        assertBitwiseEqual(Array(resumed.optimizer.v.buffer), Array(saved.v.buffer), "second moments")
        XCTAssertNotNil(state.generators["sampling"], "the sampling generator is checkpointed")
        XCTAssertGreaterThan(state.position + state.epoch, 0, "the data cursor moved")

        let again = try fixture.trainer(try fixture.config("split", extra), policy: fixture.model(seed: 1234))
        try again.train(resume: true, loop: fixture.quietLoop { step, m in resumedMetrics[step] = m["loss"] })
        assertBitwiseEqual(Array(again.policy.parameters.values.buffer), Array(straight.parameters.values.buffer))
        XCTAssertEqual(resumedMetrics, straightMetrics.filter { $0.key > 2 })
    }

    /// A reward that throws, hangs past the timeout, returns NaN or the wrong count is counted and
    /// logged with its message, and the run goes on while another reward judges; when none can judge for max_unjudgeable_steps
    /// steps in a row, the run stops with an error naming the reward and its message.
    func testRewardFailuresAreCountedLoggedAndStopTheRun() throws {
        var lines: [String] = []
        var loop = fixture.quietLoop()
        loop.log = { lines.append($0) }
        var last: [String: Double] = [:]
        loop.onStep = { _, m in last = m }
        let mixed = try fixture.trainer(try fixture.config("mixed", ["max_steps=2", "beta=0"]), policy: fixture.model(),
                                        rewards: [HasDigitReward(), BrokenReward(name: "broken", hangs: false),
                                                  BrokenReward(name: "slow", hangs: true), MisbehavingReward(name: "nan"),
                                                  MisbehavingReward(name: "short")], timeout: 0.3)
        try mixed.train(loop: loop)
        XCTAssertEqual(last["rewards/broken/failures"], 2)
        XCTAssertEqual(last["rewards/slow/timeouts"], 2)
        XCTAssertEqual(last["rewards/short/failures"], 2)
        XCTAssertEqual(last["rewards/nan/nonfinite"], 2 * 16, "every completion of both steps")
        XCTAssertTrue(lines.contains { $0.contains("reward 'short' failed") && $0.contains("returned 15 scores for 16 completions") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("reward 'nan' returned 16 NaN or infinite scores (32 in all") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("reward 'broken' failed") && $0.contains("the grader is broken") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("reward 'slow' failed") && $0.contains("reward_timeout") }, "\(lines)")

        let hopeless = try fixture.trainer(try fixture.config("hopeless", ["max_steps=10", "beta=0", "max_unjudgeable_steps=3"]),
                                           policy: fixture.model(), rewards: [BrokenReward(name: "broken", hangs: false)])
        var steps = 0
        XCTAssertThrowsError(try hopeless.train(loop: fixture.quietLoop { step, _ in steps = step })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("3 steps in a row") && text.contains("'broken'") && text.contains("the grader is broken"), text)
        }
        XCTAssertEqual(steps, 2, "the third unjudgeable step stops the run before its update")
    }

    func testConfigRejectsInconsistentSettings() throws {
        XCTAssertThrowsError(try fixture.config("x", ["num_generations=3"])) { XCTAssertTrue("\($0)".contains("num_generations"), "\($0)") }
        XCTAssertThrowsError(try fixture.config("x", ["reward_weights=[1.0]", "reward_funcs=[a, b]"])) {
            XCTAssertTrue("\($0)".contains("reward_weights"), "\($0)")
        }
        XCTAssertThrowsError(try fixture.config("x", ["num_generations=1", "per_device_train_batch_size=1"])) {
            XCTAssertTrue("\($0)".contains("num_generations") && "\($0)".contains(">= 2") || "\($0)".contains("[2, 4096]"), "\($0)")
        }
        XCTAssertThrowsError(try fixture.config("x", ["eval_temperature=0"])) { XCTAssertTrue("\($0)".contains("eval_temperature"), "\($0)") }
        // advantage=process needs a process reward among the functions.
        let outcomeOnly = try fixture.config("x", ["advantage=process"])
        XCTAssertThrowsError(try fixture.trainer(outcomeOnly, policy: fixture.model(), rewards: [HasDigitReward()])) {
            XCTAssertTrue("\($0)".contains("process reward"), "\($0)")
        }
    }

    /// Held-out samples use the training temperature unless eval_temperature is set.
    func testEvalTemperatureDefaultsToTheSamplingTemperature() throws {
        XCTAssertNil(try fixture.config("x", ["temperature=1.2"]).evalTemperature)
        XCTAssertEqual(try fixture.config("x", ["temperature=1.2", "eval_temperature=1.0"]).evalTemperature, 1.0)
    }
}

/// Rewards completions that start with the digit 7.
struct SevenReward: Reward {
    let name = "starts_with_7"
    let weight = 1.0
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] { completions.map { $0.hasPrefix("7") ? 1 : 0 } }
}

final class GRPOLearningTests: XCTestCase {
    /// GRPO raises the mean reward of a toy objective within a few dozen steps.
    func testRewardRises() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-learn-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = DecoderConfig(modelType: "qwen2", vocabSize: CharCodec().vocabSize, hiddenSize: 32, intermediateSize: 64,
                                   layerCount: 2, headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true,
                                   eosTokenIDs: [CharCodec.alphabet.count])
        let policy = DecoderModel(config: config)
        policy.initialize(seed: 2, std: 0.1)
        let prompts = try (0..<8).map { i in TrainingPrompt(text: "\(i)=", ids: try CharCodec().encode("\(i)="), columns: [:]) }
        let grpo = try GRPOConfig.resolve(TestSettings.entries([
            "model=unused", "train_file=unused", "output_dir=\(dir.path)", "per_device_train_batch_size=32", "num_generations=8",
            "max_completion_length=3", "learning_rate=0.01", "max_steps=30", "save_steps=1000", "log_completions_steps=0",
        ]))
        let trainer = try GRPOTrainer(config: grpo, policy: policy, reference: nil, codec: CharCodec(), prompts: prompts,
                                      rewards: RewardScorer(runner: RewardRunner(rewards: [SevenReward()]), maxUnjudgeableSteps: 3),
                                      tokenizerSource: nil)
        var rewards: [Double] = []
        try trainer.train(loop: GRPOFixture(dir: dir).quietLoop { _, m in rewards.append(m["reward"] ?? 0) })
        XCTAssertEqual(rewards.count, 30)
        let early = rewards.prefix(5).reduce(0, +) / 5, late = rewards.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(late, early + 0.3, "reward \(early) -> \(late): \(rewards)")
    }
}
