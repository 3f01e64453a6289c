import Foundation
import Tasks
import TensorCore
import Transformer
import XCTest
@testable import Training

/// Rewards for tests: 1 when the completion contains the digit of the prompt's `answer`
/// column, 0 otherwise; a second function that cannot judge odd-length completions.
final class DigitReward: RewardProvider {
    var names: [String] { ["has_digit", "even_length"] }
    var failures: [String: Int] { [:] }

    func score(completions: [String], prompts: [GRPOPrompt]) -> [[Double?]] {
        zip(completions, prompts).map { text, prompt in
            [text.contains(prompt.columns["answer"]?.stringValue ?? "?") ? 1 : 0, text.count % 2 == 0 ? 0.5 : nil]
        }
    }

    func stepScores(completions: [String], prompts: [GRPOPrompt]) -> [[(end: Int, reward: Double)]]? {
        completions.map { text in text.isEmpty ? [] : [(end: text.count / 2, reward: text.hasPrefix("7") ? 1 : 0), (end: text.count, reward: 0.5)] }
    }
}

final class GRPOTrainerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-rl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func model() -> DecoderModel {
        let config = DecoderConfig(modelType: "qwen2", vocabSize: CharCodec().vocabSize, hiddenSize: 32, intermediateSize: 64,
                                   layerCount: 2, headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true,
                                   eosTokenIDs: [CharCodec.alphabet.count])
        let m = DecoderModel(config: config)
        m.initialize(seed: 9, std: 0.2)
        return m
    }

    func prompts() throws -> [GRPOPrompt] {
        try (0..<6).map { i in GRPOPrompt(text: "\(i)+\(i)=", ids: try CharCodec().encode("\(i)+\(i)="), columns: ["answer": .string("\(i * 2 % 10)")]) }
    }

    func config(_ name: String, _ extra: [String]) throws -> GRPOConfig {
        try GRPOConfig(GRPOConfig.schema.resolve(file: nil, overrides: [
            "model=unused", "train_file=unused", "output_dir=\(dir.appendingPathComponent(name).path)",
            "per_device_train_batch_size=8", "gradient_accumulation_steps=2", "num_generations=4", "max_completion_length=6",
            "learning_rate=0.01", "max_steps=2", "save_steps=1", "log_completions_steps=0", "reward_funcs=has_digit,even_length",
        ] + extra))
    }

    func trainer(_ config: GRPOConfig, policy: DecoderModel) throws -> GRPOTrainer {
        let reference: DecoderModel? = config.loss.beta != 0 ? model() : nil
        let t = try GRPOTrainer(config: config, policy: policy, reference: reference, codec: CharCodec(), prompts: try prompts(),
                                rewards: DigitReward(), tokenizerSource: nil)
        t.log = { _ in }
        return t
    }

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
            let policy = model()
            let before = Array(policy.parameters.values.buffer)
            let t = try trainer(try config("v\(n)", extra + ["max_steps=1"]), policy: policy)
            if n % 2 == 1 { t.policySliceTokens = 30 }  // several forward/backward slices per mini-batch
            var seen: [String: Double] = [:]
            t.onStep = { _, m in seen = m }
            try t.run(resume: false)
            XCTAssertTrue(seen["loss"]!.isFinite, "\(extra): loss")
            XCTAssertLessThanOrEqual(seen["logprob_mismatch"]!, 1e-5, "\(extra): rollout vs recomputed logprobs")
            for p in policy.parameters.tensors {
                let range = policy.parameters.ranges[policy.parameters.tensors.firstIndex { $0 === p }!]
                XCTAssertNotEqual(Array(before[range]), p.values, "\(extra): \(p.name) did not change")
            }
            for key in ["reward", "reward_std", "rewards/has_digit/mean", "rewards/even_length/std", "frac_reward_zero_std", "entropy",
                        "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "completions/mean_length",
                        "completions/clipped_ratio", "grad_norm", "learning_rate", "step_time", "tokens_per_second"] {
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
            let config = try config("skip", extra + ["beta=0", "epsilon=0.1", "mask_truncated_completions=true"])
            let sampler = try trainer(config, policy: model())
            var generation = try sampler.sampleGenerationBatch()
            var rng = SeededGenerator(seed: 5)
            generation.rollouts = generation.rollouts.enumerated().map { i, r in
                var completion = r.completion
                completion.logprobs = completion.logprobs.map { $0 + Float(rng.nextNormal() * 0.3) }
                // Group 0 carries no signal; rollout 5 is masked; the rest keep their advantages.
                let advantage = i < 4 ? r.advantage.map { _ in 0.0 } : r.advantage.map { $0 + 0.5 }
                return GRPOTrainer.Rollout(prompt: r.prompt, completion: completion, advantage: advantage,
                                           referenceLogprobs: nil, lossMask: i != 5)
            }
            var results: [(grads: [Float], metrics: [String: Double])] = []
            for skips in [false, true] {
                let policy = model()
                let t = try trainer(config, policy: policy)
                t.skipsZeroGradientRollouts = skips
                let metrics = t.optimizerStep(generation)
                results.append((Array(policy.parameters.grads.buffer), metrics))
            }
            let (all, skipped) = (results[0], results[1])
            XCTAssertEqual(skipped.metrics["frac_policy_skipped"], 5.0 / 16, "\(extra)")
            XCTAssertEqual(all.metrics["frac_policy_skipped"], 0, "\(extra)")
            let scale = all.grads.map { abs($0) }.max()!
            XCTAssertGreaterThan(scale, 0, "\(extra)")
            for (a, b) in zip(all.grads, skipped.grads) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale, "\(extra)") }
            for key in ["loss", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "entropy"] {
                XCTAssertEqual(all.metrics[key]!, skipped.metrics[key]!, accuracy: 1e-5 * max(1, abs(all.metrics[key]!)), "\(extra): \(key)")
            }
            XCTAssertGreaterThan(all.metrics["clip_ratio/region_mean"]!, 0, "\(extra): the perturbation clips some tokens")
        }
    }

    /// Completions packed into rows that share the prompt (each its own attention segment) give
    /// the logprobs, entropies and parameter gradients of separate prompt + completion rows, for a
    /// whole group per row, an uneven split, and the automatic choice.
    func testPackedGroupsEqualSeparateRows() throws {
        let t = try trainer(try config("pack", ["beta=0"]), policy: model())
        let rollouts = try t.sampleGenerationBatch().rollouts
        var rng = SeededGenerator(seed: 3)
        let seed = rollouts.flatMap { $0.completion.ids.map { _ in Float(rng.nextNormal()) } }
        func run(_ packing: GRPOTrainer.PromptPacking) -> (lp: [Float], entropy: [Float], grads: [Float], rows: Int) {
            t.promptPacking = packing
            let batch = t.makeBatch(rollouts)
            t.policy.parameters.zeroGrad()
            let tape = Tape()
            let (lp, entropy) = t.policy.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets)
            tape.backward(lp, seed: seed)
            return (lp.values, entropy.values, Array(t.policy.parameters.grads.buffer), batch.input.batch)
        }
        let separate = run(.none)
        XCTAssertEqual(separate.rows, rollouts.count)
        let groups = rollouts.count / 4
        for (packing, rows) in [(GRPOTrainer.PromptPacking.completions(4), groups), (.completions(3), 2 * groups), (.automatic, nil)] {
            let packed = run(packing)
            if let rows { XCTAssertEqual(packed.rows, rows, "\(packing)") } else { XCTAssertLessThan(packed.rows, rollouts.count) }
            for (a, b) in zip(packed.lp, separate.lp) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(packing)") }
            for (a, b) in zip(packed.entropy, separate.entropy) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(packing)") }
            let scale = separate.grads.map { abs($0) }.max()!
            for (a, b) in zip(packed.grads, separate.grads) { XCTAssertEqual(a, b, accuracy: 1e-5 * scale, "\(packing)") }
        }
    }

    /// The automatic choice packs more completions per row when attention is cheap against the
    /// matmuls (short rows, a wide model) and fewer when completions are long.
    func testCompletionsPerRowFollowsTheCostModel() throws {
        let t = try trainer(try config("cost", ["beta=0"]), policy: model())
        t.promptPacking = .automatic
        let short = t.completionsPerRow(prompt: 20, completion: 2, group: 8)
        let long = t.completionsPerRow(prompt: 20, completion: 60, group: 8)
        XCTAssertGreaterThan(short, long)
        XCTAssertEqual(t.completionsPerRow(prompt: 1, completion: 500, group: 8), 1, "nothing to share")
        XCTAssertEqual(t.completionsPerRow(prompt: 20, completion: 5, group: 1), 1)
        t.promptPacking = .none
        XCTAssertEqual(t.completionsPerRow(prompt: 20, completion: 2, group: 8), 1)
    }

    /// Two steps straight equal one step, a stop, and a resume (weights, sampling RNG, data cursor).
    func testResumeIsExact() throws {
        let straight = model()
        try trainer(try config("straight", ["beta=0.04"]), policy: straight).run(resume: false)
        try trainer(try config("split", ["beta=0.04"]), policy: model()).run(resume: false, stopAt: 1)
        let resumed = model()
        try trainer(try config("split", ["beta=0.04"]), policy: resumed).run(resume: true)
        XCTAssertEqual(Array(resumed.parameters.values.buffer), Array(straight.parameters.values.buffer))
    }

    func testConfigRejectsInconsistentSettings() {
        XCTAssertThrowsError(try config("x", ["num_generations=3"])) { XCTAssertTrue("\($0)".contains("num_generations")) }
        XCTAssertThrowsError(try config("x", ["reward_weights=[1.0]"])) { XCTAssertTrue("\($0)".contains("reward_weights")) }
        XCTAssertThrowsError(try config("x", ["num_generations=1", "per_device_train_batch_size=1"])) {
            XCTAssertTrue("\($0)".contains("at least 2"))
        }
        XCTAssertThrowsError(try config("x", ["eval_temperature=0"])) { XCTAssertTrue("\($0)".contains("eval_temperature")) }
    }

    /// Held-out samples use the training temperature unless eval_temperature is set.
    func testEvalTemperatureDefaultsToTheSamplingTemperature() throws {
        XCTAssertEqual(try config("x", ["temperature=1.2"]).evalTemperature, 1.2)
        XCTAssertEqual(try config("x", ["temperature=1.2", "eval_temperature=1.0"]).evalTemperature, 1.0)
    }
}

/// Rewards completions that start with the digit 7.
final class SevenReward: RewardProvider {
    var names: [String] { ["starts_with_7"] }
    var failures: [String: Int] { [:] }
    func score(completions: [String], prompts: [GRPOPrompt]) -> [[Double?]] { completions.map { [$0.hasPrefix("7") ? 1 : 0] } }
    func stepScores(completions: [String], prompts: [GRPOPrompt]) -> [[(end: Int, reward: Double)]]? { nil }
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
        let prompts = try (0..<8).map { i in GRPOPrompt(text: "\(i)=", ids: try CharCodec().encode("\(i)="), columns: [:]) }
        let grpo = try GRPOConfig(GRPOConfig.schema.resolve(file: nil, overrides: [
            "model=unused", "train_file=unused", "output_dir=\(dir.path)", "per_device_train_batch_size=32", "num_generations=8",
            "max_completion_length=3", "learning_rate=0.01", "max_steps=30", "save_steps=1000", "log_completions_steps=0",
            "reward_funcs=starts_with_7",
        ]))
        let trainer = try GRPOTrainer(config: grpo, policy: policy, reference: nil, codec: CharCodec(), prompts: prompts,
                                      rewards: SevenReward(), tokenizerSource: nil)
        trainer.log = { _ in }
        trainer.showProgress = false
        var rewards: [Double] = []
        trainer.onStep = { _, m in rewards.append(m["reward"] ?? 0) }
        try trainer.run(resume: false)
        let early = rewards.prefix(5).reduce(0, +) / 5, late = rewards.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(late, early + 0.3, "reward \(early) -> \(late): \(rewards)")
    }
}
