import Foundation
import TestSupport
import XCTest
@testable import Training

/// The GRPO loss, its gradient and the advantages against TRL 1.16 (fixtures written by
/// Scripts/make_grpo_fixtures.py calling GRPOTrainer._compute_loss): relative error <= 1e-6 (Float64).
final class GRPOMathTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func load(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["cases"] as! [[String: Any]]
    }

    func flat(_ value: Any?) -> [Double] { (value as! [[NSNumber]]).flatMap { $0.map(\.doubleValue) } }

    func testLossAndGradientMatchTRL() throws {
        let cases = try load("grpo_loss.json")
        XCTAssertEqual(cases.count, 16)
        var covered = Set<String>()
        for (n, c) in cases.enumerated() {
            var config = PolicyLossConfig()
            config.lossType = PolicyLossType(rawValue: c["loss_type"] as! String)!
            config.importanceSampling = ImportanceSamplingLevel(rawValue: c["importance_sampling_level"] as! String)!
            config.beta = (c["beta"] as! NSNumber).doubleValue
            config.klBiasCorrection = c["use_bias_correction_kl"] as! Bool
            config.delta = (c["delta"] as? NSNumber)?.doubleValue
            config.epsilon = (c["epsilon"] as! NSNumber).doubleValue
            config.epsilonHigh = (c["epsilon_high"] as! NSNumber).doubleValue
            config.maxCompletionLength = c["max_completion_length"] as! Int
            let mask = flat(c["mask"])
            let b = (c["mask"] as! [[NSNumber]]).count, t = mask.count / b
            let advantages = (c["advantages"] as! [NSNumber]).map(\.doubleValue)
            let input = PolicyLossInput(logps: flat(c["logps"]), oldLogps: flat(c["old_logps"]),
                                        refLogps: config.beta != 0 ? flat(c["ref_logps"]) : nil,
                                        advantages: PolicyLossInput.perToken(advantages, time: t), mask: mask,
                                        completions: b, time: t)
            let norm = LossNormalization(accumulationSteps: c["gradient_accumulation_steps"] as! Int,
                                         stepsPerGeneration: c["steps_per_generation"] as! Int,
                                         activeTokensInGeneration: (c["num_items_in_batch"] as! NSNumber).doubleValue)
            let r = PolicyLoss.compute(input, config: config, normalization: norm)
            let label = "case \(n): \(config.lossType.rawValue) \(config.importanceSampling.rawValue) beta \(config.beta) delta \(String(describing: config.delta)) bias-corrected \(config.klBiasCorrection)"
            let expectedLoss = (c["loss"] as! NSNumber).doubleValue
            XCTAssertEqual(r.loss, expectedLoss, accuracy: 1e-6 * max(abs(expectedLoss), 1e-3), label)
            let expectedGradient = flat(c["grad"])
            let scale = expectedGradient.map(abs).max()!
            let worst = zip(r.gradient, expectedGradient).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst / scale, 1e-6, "\(label): gradient")
            let metrics = c["metrics"] as! [String: NSNumber]
            XCTAssertEqual(r.clipLow, metrics["clip_ratio/low_mean"]!.doubleValue, accuracy: 1e-7, label)
            XCTAssertEqual(r.clipHigh, metrics["clip_ratio/high_mean"]!.doubleValue, accuracy: 1e-7, label)
            XCTAssertEqual(r.clipRegion, metrics["clip_ratio/region_mean"]!.doubleValue, accuracy: 1e-7, label)
            if let kl = metrics["kl"] { XCTAssertEqual(r.kl!, kl.doubleValue, accuracy: 1e-9 * max(1, abs(kl.doubleValue)), label) }
            covered.insert("\(config.lossType.rawValue)/\(config.importanceSampling.rawValue)/\(config.beta != 0)")
        }
        XCTAssertEqual(covered.count, 16, "every loss type x level x beta")
    }

    /// TRL 1.16's other loss types (cispo, sapo, luspo, vespo; Scripts/make_grpo_loss_fixtures_116.py),
    /// with an all-masked completion among the rows.
    func testTRL116LossTypesMatchTRL() throws {
        let cases = try load("grpo_loss_116.json")
        XCTAssertEqual(cases.count, 16)
        var covered = Set<String>()
        for (n, c) in cases.enumerated() {
            var config = PolicyLossConfig()
            config.lossType = try XCTUnwrap(PolicyLossType(rawValue: c["loss_type"] as? String ?? ""))
            config.importanceSampling = try XCTUnwrap(ImportanceSamplingLevel(rawValue: c["importance_sampling_level"] as? String ?? ""))
            config.beta = try XCTUnwrap(c["beta"] as? Double)
            config.klBiasCorrection = try XCTUnwrap(c["use_bias_correction_kl"] as? Bool)
            config.delta = c["delta"] as? Double
            config.epsilon = try XCTUnwrap(c["epsilon"] as? Double)
            config.epsilonHigh = try XCTUnwrap(c["epsilon_high"] as? Double)
            config.maxCompletionLength = try XCTUnwrap(c["max_completion_length"] as? Int)
            config.sapoTemperaturePos = try XCTUnwrap(c["sapo_temperature_pos"] as? Double)
            config.sapoTemperatureNeg = try XCTUnwrap(c["sapo_temperature_neg"] as? Double)
            config.vespoKPos = try XCTUnwrap(c["vespo_k_pos"] as? Double)
            config.vespoLambdaPos = try XCTUnwrap(c["vespo_lambda_pos"] as? Double)
            config.vespoKNeg = try XCTUnwrap(c["vespo_k_neg"] as? Double)
            config.vespoLambdaNeg = try XCTUnwrap(c["vespo_lambda_neg"] as? Double)
            let rows = try XCTUnwrap(c["mask"] as? [[NSNumber]])
            let mask = flat(c["mask"]), b = rows.count, t = mask.count / b
            let advantages = try XCTUnwrap(c["advantages"] as? [NSNumber]).map(\.doubleValue)
            let input = PolicyLossInput(logps: flat(c["logps"]), oldLogps: flat(c["old_logps"]),
                                        refLogps: config.beta != 0 ? flat(c["ref_logps"]) : nil,
                                        advantages: PolicyLossInput.perToken(advantages, time: t), mask: mask, completions: b, time: t)
            let norm = LossNormalization(accumulationSteps: try XCTUnwrap(c["gradient_accumulation_steps"] as? Int),
                                         stepsPerGeneration: try XCTUnwrap(c["steps_per_generation"] as? Int),
                                         activeTokensInGeneration: try XCTUnwrap(c["num_items_in_batch"] as? Double))
            let r = PolicyLoss.compute(input, config: config, normalization: norm)
            let label = "case \(n): \(config.lossType.rawValue) \(config.importanceSampling.rawValue) beta \(config.beta)"
            let expectedLoss = try XCTUnwrap(c["loss"] as? Double)
            XCTAssertEqual(r.loss, expectedLoss, accuracy: 1e-6 * max(abs(expectedLoss), 1e-3), label)
            let expectedGradient = flat(c["grad"])
            assertElementsClose(r.gradient, expectedGradient, accuracy: 1e-6 * (expectedGradient.map(abs).max() ?? 1), "\(label): gradient")
            let metrics = try XCTUnwrap(c["metrics"] as? [String: Double])
            if config.lossType.clips {
                XCTAssertEqual(r.clipLow, try XCTUnwrap(metrics["clip_ratio/low_mean"]), accuracy: 1e-7, label)
                XCTAssertEqual(r.clipHigh, try XCTUnwrap(metrics["clip_ratio/high_mean"]), accuracy: 1e-7, label)
                XCTAssertEqual(r.clipRegion, try XCTUnwrap(metrics["clip_ratio/region_mean"]), accuracy: 1e-7, label)
            }
            for key in ["cispo_clip_ratio", "vespo/phi_seq_mean"] {
                XCTAssertEqual(r.extra[key] != nil, metrics[key] != nil, "\(label): \(key) logged")
                if let expected = metrics[key] { XCTAssertEqual(try XCTUnwrap(r.extra[key]), expected, accuracy: 1e-6 * max(1, abs(expected)), label) }
            }
            if let kl = metrics["kl"] { XCTAssertEqual(try XCTUnwrap(r.kl), kl, accuracy: 1e-9 * max(1, abs(kl)), label) }
            covered.insert("\(config.lossType.rawValue)/\(config.importanceSampling.rawValue)/\(config.beta != 0)")
        }
        XCTAssertEqual(covered.count, 16, "every new loss type x level x beta")
    }

    func testAdvantagesMatchTRL() throws {
        for c in try load("grpo_advantages.json") {
            let scaling = RewardScaling(rawValue: c["scale_rewards"] as! String)!
            let rewards = (c["rewards_per_func"] as! [[Any]]).map { row in row.map { ($0 as? NSNumber)?.doubleValue } }
            let r = Advantages.compute(rewardsPerFunction: rewards, weights: (c["weights"] as! [NSNumber]).map(\.doubleValue),
                                       groupSize: c["num_generations"] as! Int, scaling: scaling)
            let expected = (c["advantages"] as! [NSNumber]).map(\.doubleValue)
            for (i, (a, e)) in zip(r.advantages, expected).enumerated() {
                XCTAssertEqual(a, e, accuracy: 1e-6 * max(1, abs(e)), "\(scaling) completion \(i)")
            }
            XCTAssertEqual(r.advantages[5], 0, "an unjudgeable completion gets advantage 0")
            XCTAssertNil(r.rewards[5])
            XCTAssertEqual(r.fractionZeroStd, (c["frac_reward_zero_std"] as! NSNumber).doubleValue, accuracy: 1e-7, "\(scaling)")
        }
    }

    /// The analytic gradient against central differences of the loss itself, on a case with
    /// every option on (independent of the fixtures).
    func testGradientAgainstFiniteDifferences() {
        var config = PolicyLossConfig()
        config.beta = 0.04
        config.delta = 1.3
        config.epsilonHigh = 0.28
        // cispo and vespo detach their weights (stop-gradient), which finite differences cannot see;
        // the TRL fixtures check their gradients.
        for (level, (estimator, type)) in ImportanceSamplingLevel.allCases.flatMap({ l in
            KLEstimator.allCases.flatMap { e in [PolicyLossType.dapo, .sapo, .luspo].map { (l, (e, $0)) } }
        }) {
            do {
                config.importanceSampling = level
                config.klEstimator = estimator
                config.lossType = type
                let (b, t) = (3, 4)
                let logps = (0..<(b * t)).map { -0.1 - Double(($0 * 37) % 11) / 5 }
                let old = logps.enumerated().map { $1 + 0.25 * sin(Double($0)) }
                let ref = logps.enumerated().map { $1 + 0.2 * cos(Double($0)) }
                let mask: [Double] = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0]
                let adv = PolicyLossInput.perToken([0.7, -1.2, 0.4], time: t)
                func loss(_ lp: [Double]) -> PolicyLossResult {
                    PolicyLoss.compute(.init(logps: lp, oldLogps: old, refLogps: ref, advantages: adv, mask: mask, completions: b, time: t),
                                       config: config, normalization: .init())
                }
                let analytic = loss(logps).gradient
                for j in 0..<(b * t) {
                    var plus = logps, minus = logps
                    plus[j] += 1e-6
                    minus[j] -= 1e-6
                    let numeric = (loss(plus).loss - loss(minus).loss) / 2e-6
                    XCTAssertEqual(analytic[j], numeric, accuracy: 1e-7, "\(type) \(level) \(estimator) token \(j)")
                }
            }
        }
    }
}

final class ProcessSupervisionTests: XCTestCase {
    func testStepRewardsNormaliseOverTheGroupAndAccumulateBackwards() {
        // Two completions in one group; steps rewards 1, 0 | 1. mean 2/3, std (Bessel) 0.57735.
        let steps: [[StepReward]] = [[.init(endToken: 1, reward: 1), .init(endToken: 3, reward: 0)],
                                     [.init(endToken: 2, reward: 1)]]
        let a = Advantages.process(steps: steps, groupSize: 2, time: 4)
        let std = (1.0 / 3.0).squareRoot() + 1e-4
        let hi = (1 - 2.0 / 3.0) / std, lo = (0 - 2.0 / 3.0) / std
        let expected = [hi + lo, hi + lo, lo, lo, hi, hi, hi, 0]
        for (x, y) in zip(a, expected) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        // A group with a single step has no spread: all zero.
        XCTAssertEqual(Advantages.process(steps: [[.init(endToken: 0, reward: 3)], []], groupSize: 2, time: 2), [0, 0, 0, 0])
    }
}

final class LossSlicingTests: XCTestCase {
    /// Slices of whole completions, each told the mini-batch's size, add up to the whole loss and
    /// gradient for every loss type and importance level.
    func testSlicesAddUpToTheWholeMiniBatch() {
        let (b, t) = (4, 5)
        let logps = (0..<(b * t)).map { -0.2 - Double(($0 * 13) % 7) / 4 }
        let old = logps.enumerated().map { $1 + 0.3 * sin(Double($0 * 3)) }
        let ref = logps.enumerated().map { $1 + 0.2 * cos(Double($0)) }
        let mask: [Double] = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0]
        let adv = PolicyLossInput.perToken([0.5, -1, 2, -0.3], time: t)
        for type in PolicyLossType.allCases {
            for level in ImportanceSamplingLevel.allCases {
                var config = PolicyLossConfig()
                config.lossType = type
                config.importanceSampling = level
                config.beta = 0.04
                config.maxCompletionLength = t
                let norm = LossNormalization(accumulationSteps: 2, stepsPerGeneration: 2, activeTokensInGeneration: 30)
                let whole = PolicyLoss.compute(.init(logps: logps, oldLogps: old, refLogps: ref, advantages: adv, mask: mask,
                                                     completions: b, time: t), config: config, normalization: norm)
                var sliced = LossNormalization(accumulationSteps: 2, stepsPerGeneration: 2, activeTokensInGeneration: 30)
                sliced.miniBatch = (b, mask.reduce(0, +))
                var loss = 0.0, gradient: [Double] = []
                for rows in [0..<1, 1..<4] {
                    let r = (rows.lowerBound * t)..<(rows.upperBound * t)
                    let part = PolicyLoss.compute(.init(logps: Array(logps[r]), oldLogps: Array(old[r]), refLogps: Array(ref[r]),
                                                        advantages: Array(adv[r]), mask: Array(mask[r]), completions: rows.count, time: t),
                                                  config: config, normalization: sliced)
                    loss += part.loss
                    gradient += part.gradient
                }
                XCTAssertEqual(loss, whole.loss, accuracy: 1e-12, "\(type) \(level)")
                for (a, e) in zip(gradient, whole.gradient) { XCTAssertEqual(a, e, accuracy: 1e-12, "\(type) \(level)") }
            }
        }
    }
}
