import Foundation
import ModelIO
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Training

/// `grpo train rm` against TRL 1.16's RewardTrainer (Scripts/make_reward_model_fixtures.py): a tiny
/// Qwen2ForSequenceClassification, four text pairs, with and without margins and centering; the
/// ids TRL feeds the model, the rewards, loss, logged metrics, every gradient and one AdamW step.
final class RewardModelTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reward_model")

    /// The fixture tokenizer: "tN" is id N; "</s>" (1) ends a sequence; padding is 0.
    struct WordCodec: TextCodec {
        var eosTokenIDs: Set<Int32> { [1] }
        func encode(_ text: String) throws -> [Int32] { text.split(separator: " ").compactMap { Int32($0.dropFirst()) } }
        func decode(_ ids: [Int32]) -> String { ids.map { "t\($0)" }.joined(separator: " ") }
    }

    func fixture() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("pairs.json"))) as? [String: Any])
    }

    func testTheTextOfAPairBecomesTRLsIds() throws {
        let json = try fixture()
        let plain = try XCTUnwrap((json["settings"] as? [String: Any])?["plain"] as? [String: Any])
        let text = try XCTUnwrap(plain["text_fed_to_trl"] as? [String: [String]])
        let sequence = RewardSequence(eos: 1, pad: 0)
        for i in 0..<4 {
            let prompt = try XCTUnwrap(text["prompt"]?[i])
            XCTAssertEqual(try sequence.ids(prompt + (text["chosen"]?[i] ?? ""), codec: WordCodec()).map(Int.init),
                           (plain["chosen_input_ids"] as? [[Int]])?[i])
            XCTAssertEqual(try sequence.ids(prompt + (text["rejected"]?[i] ?? ""), codec: WordCodec()).map(Int.init),
                           (plain["rejected_input_ids"] as? [[Int]])?[i])
        }
        // A text that already ends with the end token gets no second one; a chat rendering gets none.
        XCTAssertEqual(try sequence.ids("t5 t1", codec: WordCodec()), [5, 1])
        XCTAssertEqual(try sequence.ids("t5 t6", codec: WordCodec(), conversational: true), [5, 6])
        // The score is read at the last token that is not padding: the end token when padding differs,
        // the token before it when padding is the end token (transformers' rule).
        XCTAssertEqual(sequence.batch([[5, 6, 1], [7, 1]]).positions, [2, 4])
        XCTAssertEqual(RewardSequence(eos: 1, pad: 1).batch([[5, 6, 1], [7, 1]]).positions, [1, 3])
    }

    func testLossGradientsAndOneStepMatchTRL() throws {
        let json = try fixture()
        for setting in ["plain", "margin_center"] {
            let s = try XCTUnwrap((json["settings"] as? [String: Any])?[setting] as? [String: Any])
            let chosen = try XCTUnwrap(s["chosen_input_ids"] as? [[Int]]), rejected = try XCTUnwrap(s["rejected_input_ids"] as? [[Int]])
            let margins = s["margin"] as? [Double]
            let pairs = (0..<chosen.count).map { PreferencePair(chosen: chosen[$0].map(Int32.init), rejected: rejected[$0].map(Int32.init),
                                                                margin: margins?[$0]) }
            let model = try ModelCheckpoint.load(directory: Self.fixtures.appendingPathComponent("model"))
            XCTAssertEqual(model.config.scoreLabels, 1)
            XCTAssertEqual(model.config.padTokenID, 0)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-rm-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let config = try RewardModelConfig.resolve(TestSettings.entries([
                "model=fixture", "train_file=fixture", "output_dir=\(dir.path)", "learning_rate=0.001", "weight_decay=0.0",
                "max_grad_norm=0", "lr_scheduler_type=constant",
                "center_rewards_coefficient=\((s["center_rewards_coefficient"] as? Double) ?? 0)",
            ]))
            let trainer = try RewardModelTrainer(config: config, model: model, sequence: RewardSequence(model: model, codec: WordCodec()),
                                                 train: pairs, eval: [], tokenizerSource: nil)
            let metrics = try trainer.accumulateGradients([pairs])
            let expected = try XCTUnwrap((s["float64"] as? [String: Any])?["metrics"] as? [String: Double])
            for key in ["loss", "num_tokens", "min_reward", "mean_reward", "max_reward", "accuracy", "margin"] {
                let value = try XCTUnwrap(expected[key], key)
                XCTAssertEqual(try XCTUnwrap(metrics[key], key), value, accuracy: 2e-6 * max(1, abs(value)), "\(setting) \(key)")
            }
            XCTAssertEqual(model.parameters.gradNorm(), try XCTUnwrap(expected["grad_norm"]), accuracy: 1e-5, setting)
            let grads = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("grads_\(setting).safetensors"))
            let after = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("after_\(setting).safetensors"))
            XCTAssertEqual(Set(grads.names), Set(model.parameters.tensors.map(\.name)), "every parameter, HF names")
            for t in model.parameters.tensors {
                assertElementsClose(t.gradValues, try grads.tensor(t.name).values, accuracy: 2e-6, "\(setting) grad \(t.name)")
            }
            trainer.optimizer.update(lr: 1e-3)
            for t in model.parameters.tensors {
                // Adam's step is ~lr x sign(g): a gradient of ~1e-7 moves its weight by ~lr, so float rounding
                // there shows as ~1e-5 (as in the PPO step test).
                assertElementsClose(t.values, try after.tensor(t.name).values, accuracy: 2e-5, "\(setting) after \(t.name)")
            }
        }
    }

    func testPairwiseGradientMatchesFiniteDifferences() {
        let chosen = [0.3, -1.2, 2.0], rejected = [0.1, 0.4, 2.5], margins = [0.5, 0.0, -0.25]
        for (m, c) in [(nil, 0.0), (margins, 0.05)] as [([Double]?, Double)] {
            let result = PairwiseLoss.compute(chosen: chosen, rejected: rejected, margins: m, centerCoefficient: c)
            let h = 1e-6
            for i in chosen.indices {
                var up = chosen, down = chosen
                up[i] += h
                down[i] -= h
                let fd = (PairwiseLoss.compute(chosen: up, rejected: rejected, margins: m, centerCoefficient: c).loss
                    - PairwiseLoss.compute(chosen: down, rejected: rejected, margins: m, centerCoefficient: c).loss) / (2 * h)
                XCTAssertEqual(result.dChosen[i], fd, accuracy: 1e-8)
                var upR = rejected, downR = rejected
                upR[i] += h
                downR[i] -= h
                let fdR = (PairwiseLoss.compute(chosen: chosen, rejected: upR, margins: m, centerCoefficient: c).loss
                    - PairwiseLoss.compute(chosen: chosen, rejected: downR, margins: m, centerCoefficient: c).loss) / (2 * h)
                XCTAssertEqual(result.dRejected[i], fdR, accuracy: 1e-8)
            }
        }
        // Large reward gaps stay finite (softplus, not log(sigmoid)).
        let far = PairwiseLoss.compute(chosen: [-800], rejected: [800], margins: nil, centerCoefficient: nil)
        XCTAssertEqual(far.loss, 1600, accuracy: 1e-9)
        XCTAssertEqual(far.dChosen[0], -1)
    }
}
