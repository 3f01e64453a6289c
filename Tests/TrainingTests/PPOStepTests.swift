import Foundation
import ModelIO
import Rewards
import Tasks
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Training

/// The row's `score` column as its reward (a stand-in for TRL's reward model in the parity test).
struct ColumnScoreReward: Reward {
    let name = "score_column"
    let weight = 1.0
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] { columns.map { $0["score"]?.numberValue } }
}

/// One whole PPO update against TRL 1.12's PPOTrainer.train() on a tiny Qwen2 policy and value model
/// (Scripts/make_ppo_step_fixture.py: fixed responses and scores, two epochs of one micro-batch, so
/// two AdamW steps for each model): the rollout's values, advantages and returns, the logged losses,
/// and every weight of both models after the update.
final class PPOStepTests: XCTestCase {
    func testOneUpdateMatchesTRL() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ppo_step")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("steps.json")))
            as? [String: Any])
        let promptIDs = try XCTUnwrap(json["prompts"] as? [[Int]])
        let responses = try XCTUnwrap(json["responses"] as? [[Int]])
        let scores = try XCTUnwrap(json["scores"] as? [Double])
        let policy = try ModelCheckpoint.load(directory: fixtures.appendingPathComponent("policy"))
        let value = try ModelCheckpoint.load(directory: fixtures.appendingPathComponent("value_model"))
        XCTAssertEqual(value.config.scoreLabels, 1)
        let reference = DecoderModel(config: policy.config)
        reference.parameters.values.pointer.update(from: policy.parameters.values.pointer, count: policy.parameters.count)
        let prompts = promptIDs.enumerated().map { i, ids in
            TrainingPrompt(text: ids.map(String.init).joined(separator: " "), ids: ids.map(Int32.init), columns: ["score": .double(scores[i])])
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-ppo-step-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try PPOConfig.resolve(TestSettings.entries([
            "model=fixture", "train_file=fixture", "output_dir=\(dir.path)", "per_device_train_batch_size=4", "gradient_accumulation_steps=1",
            "num_mini_batches=1", "num_ppo_epochs=2", "learning_rate=0.001", "lr_scheduler_type=constant", "weight_decay=0.0",
            "kl_coef=0.05", "kl_estimator=k1", "cliprange=0.2", "vf_coef=0.1", "cliprange_value=0.2", "gamma=1.0", "lam=0.95",
            "response_length=5", "temperature=0.7", "stop_token=eos", "max_steps=1", "save_steps=1", "eval_on_start=false",
            "max_grad_norm=0", "reward_funcs=[score_column]",
        ]))
        let trainer = try PPOTrainer(config: config, policy: policy, reference: reference, value: value, codec: EOSIdCodec(), prompts: prompts,
                                     rewards: RewardScorer(runner: RewardRunner(rewards: [ColumnScoreReward()]), maxUnjudgeableSteps: 1),
                                     tokenizerSource: nil)
        trainer.responses = .fixed(Dictionary(uniqueKeysWithValues: responses.enumerated().map { ($0, $1.map(Int32.init)) }))
        var metrics: [String: Double] = [:]
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        loop.onStep = { _, m in metrics = m }
        try trainer.train(loop: loop)

        let logged = try XCTUnwrap(json["metrics"] as? [String: Double])
        // TRL's entropy and ratio means run over padding positions too; ours over real tokens (entropy).
        for key in ["objective/entropy", "objective/scores", "loss/policy_avg", "loss/value_avg", "policy/approxkl_avg", "val/ratio",
                    "policy/clipfrac_avg", "val/clipfrac_avg", "val/num_eos_tokens"] {
            let expected = try XCTUnwrap(logged[key], key)
            XCTAssertEqual(try XCTUnwrap(metrics[key], key), expected, accuracy: 1e-4 * max(1, abs(expected)), key)
        }
        for (model, file) in [(trainer.policy, "policy_after.safetensors"), (trainer.value, "value_after.safetensors")] {
            let after = try SafeTensorsFile(url: fixtures.appendingPathComponent(file))
            for t in model.parameters.tensors {
                // Within 2e-5 of TRL's for every weight (most tensors agree to 1e-6 norm-wise; Adam turns float
                // rounding on a near-zero gradient into differences of ~1e-5 in a few elements).
                assertElementsClose(t.values, try after.tensor(t.name).values, accuracy: 2e-5, "\(file): \(t.name)")
            }
        }
    }
}

/// Token ids written as text, with token 1 as the end of sequence.
struct EOSIdCodec: TextCodec {
    var eosTokenIDs: Set<Int32> { [1] }
    func encode(_ text: String) throws -> [Int32] { text.split(separator: " ").compactMap { Int32($0) } }
    func decode(_ ids: [Int32]) -> String { ids.map(String.init).joined(separator: " ") }
}
