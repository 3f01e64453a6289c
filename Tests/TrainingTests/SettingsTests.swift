import Foundation
import XCTest
@testable import Training

/// Settings are declared once per key: these check parsing, rules, errors and the documentation
/// that all come from that one declaration.
final class SettingsTests: XCTestCase {
    func resolve(_ texts: [String]) throws -> GRPOConfig { try GRPOConfig.resolve(TestSettings.entries(["model=m", "train_file=t"] + texts)) }

    func testKeysSetNestedSettingsAndDefaultsComeFromTheStructs() throws {
        let c = try resolve(["learning_rate=0.003", "beta=0.04", "kl_estimator=k1", "temperature=0.7", "reward_funcs=[a, b]",
                             "epsilon_high=0.28", "max_unjudgeable_steps=7"])
        XCTAssertEqual(c.training.optimizer.learningRate, 0.003)
        XCTAssertEqual(c.loss.beta, 0.04)
        XCTAssertEqual(c.loss.klEstimator, .k1)
        XCTAssertEqual(c.rollout.temperature, 0.7)
        XCTAssertEqual(c.rewards.functions, ["a", "b"])
        XCTAssertEqual(c.policyLoss.epsilonHigh, 0.28)
        XCTAssertEqual(c.rewards.maxUnjudgeableSteps, 7)
        XCTAssertEqual(c.training.batchSize, 64, "GRPO's own default for a shared key")
        XCTAssertEqual(try SFTConfig.resolve(TestSettings.entries(["model=m", "train_file=t"])).training.batchSize, 16)
        XCTAssertEqual(try resolve([]).policyLoss.epsilonHigh, 0.2, "epsilon_high defaults to epsilon")
        // Every key is declared once.
        for names in [GRPOConfig.keys.map(\.name), SFTConfig.keys.map(\.name)] {
            XCTAssertEqual(Set(names).count, names.count, "a key declared twice: \(names)")
        }
    }

    func testBadKeysAndValuesAreNamedWithExpectedAndGiven() throws {
        XCTAssertThrowsError(try resolve(["learnig_rate=0.1"])) { error in
            XCTAssertEqual("\(error)", "--set: unknown key 'learnig_rate'; did you mean 'learning_rate'?")
        }
        XCTAssertThrowsError(try resolve(["max_steps=ten"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'max_steps': expected an integer in [1, 100000000], got ten")
        }
        XCTAssertThrowsError(try resolve(["max_steps=0"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'max_steps': expected an integer in [1, 100000000], got 0")
        }
        XCTAssertThrowsError(try resolve(["lr_scheduler_type=step"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'lr_scheduler_type': expected one of constant, linear, cosine, got step")
        }
        XCTAssertThrowsError(try resolve(["loss_type=ppo"])) { error in
            XCTAssertTrue("\(error)".contains("one of grpo, bnpo, dr_grpo, dapo"), "choices from the enum: \(error)")
        }
        XCTAssertThrowsError(try resolve(["adam_beta2=1.5"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'adam_beta2': expected a number in [0, 1), got 1.5")
        }
        XCTAssertThrowsError(try resolve(["per_device_train_batch_size=99999999999"])) { error in
            XCTAssertTrue("\(error)".contains("per_device_train_batch_size") && "\(error)".contains("99999999999"), "\(error)")
        }
        XCTAssertThrowsError(try resolve(["use_chat_template=3"])) { error in
            XCTAssertEqual("\(error)", "--set: key 'use_chat_template': expected true or false, got 3")
        }
        XCTAssertThrowsError(try resolve(["verifier=exact"])) { error in
            XCTAssertTrue("\(error)".contains("verifier") && "\(error)".contains("countdown"), "\(error)")
        }
        XCTAssertThrowsError(try GRPOConfig.resolve(TestSettings.entries(["model=m"]))) { error in
            XCTAssertTrue("\(error)".contains("train_file") && "\(error)".contains("required"), "\(error)")
        }
        XCTAssertThrowsError(try GRPOConfig.resolve([SettingEntry("beta", .string("x"), source: "run.yaml")])) { error in
            XCTAssertEqual("\(error)", "run.yaml: key 'beta': expected a number >= 0.0, got x")
        }
    }

    /// `yaml` prints every key with its value; reading it back gives the same settings.
    func testYAMLListsEveryKeyAndReadsBack() throws {
        let c = try resolve(["learning_rate=0.003", "reward_funcs=[math_answer, format]", "eval_file=held out.jsonl", "epsilon_high=0.28"])
        let lines = c.yaml.split(separator: "\n")
        XCTAssertEqual(lines.count, GRPOConfig.keys.count)
        XCTAssertTrue(lines.contains("reward_funcs: [math_answer, format]"), c.yaml)
        XCTAssertTrue(lines.contains("eval_file: \"held out.jsonl\""), c.yaml)
        XCTAssertTrue(lines.contains("eval_temperature: null"), c.yaml)
        let entries = c.entries.map { SettingEntry($0.key, $0.value, source: "printed") }
        XCTAssertEqual(try GRPOConfig.resolve(entries), c)
    }

    func testDocumentationListsEveryKeyWithItsRuleAndDefault() {
        let doc = GRPOConfig.documentation
        for key in GRPOConfig.keys { XCTAssertTrue(doc.contains("  \(key.name) ("), key.name) }
        XCTAssertTrue(doc.contains("loss_type (one of grpo, bnpo, dr_grpo, dapo, cispo, sapo, luspo, vespo; default dapo)"), doc)
    }
}
