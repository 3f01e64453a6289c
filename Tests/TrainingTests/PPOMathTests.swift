import Foundation
import TestSupport
import XCTest
@testable import Training

/// PPO's rollout math and losses against TRL 1.12's PPOTrainer (fixtures written by
/// Scripts/make_ppo_fixtures.py from TRL's own helpers and checked against its real train()):
/// masks, KL, score placement, whitening, GAE, returns, both losses, their gradients and the
/// statistics, relative error <= 1e-6 in Float64.
final class PPOMathTests: XCTestCase {
    struct Case {
        let name: String
        let json: [String: Any]
        func section(_ key: String) -> [String: Any] { json[key] as? [String: Any] ?? [:] }
        func matrix(_ section: String, _ key: String) -> [Double] {
            (self.section(section)[key] as? [[NSNumber]] ?? []).flatMap { $0.map(\.doubleValue) }
        }
        func vector(_ section: String, _ key: String) -> [Double] { (self.section(section)[key] as? [NSNumber] ?? []).map(\.doubleValue) }
        func number(_ section: String, _ key: String) -> Double { (self.section(section)[key] as? NSNumber)?.doubleValue ?? .nan }
    }

    func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ppo_math.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try XCTUnwrap(json["cases"] as? [[String: Any]]).map { Case(name: $0["name"] as? String ?? "?", json: $0) }
    }

    func settings(_ c: Case) throws -> (PPOMath.Settings, PPOLoss.Settings) {
        let s = c.section("settings")
        var math = PPOMath.Settings(), loss = PPOLoss.Settings()
        math.klCoef = try XCTUnwrap(s["kl_coef"] as? Double)
        math.klEstimator = try XCTUnwrap(PPOMath.KLEstimator(rawValue: s["kl_estimator"] as? String ?? ""))
        math.whitenRewards = try XCTUnwrap(s["whiten_rewards"] as? Bool)
        math.gamma = try XCTUnwrap(s["gamma"] as? Double)
        math.lam = try XCTUnwrap(s["lam"] as? Double)
        loss.cliprange = try XCTUnwrap(s["cliprange"] as? Double)
        loss.cliprangeValue = try XCTUnwrap(s["cliprange_value"] as? Double)
        loss.vfCoef = try XCTUnwrap(s["vf_coef"] as? Double)
        return (math, loss)
    }

    func close(_ a: [Double], _ b: [Double], _ what: String) {
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        assertElementsClose(a, b, accuracy: 1e-6 * scale, what)
    }

    func testRolloutMathMatchesTRL() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 7)
        for c in all {
            let (math, _) = try settings(c)
            let responses = c.section("inputs")["responses"] as? [[Int]] ?? []
            let (b, t) = (responses.count, responses.first?.count ?? 0)
            let lastIndex = (c.section("rollout")["sequence_lengths"] as? [Int]) ?? []
            let penalty = c.section("settings")["missing_eos_penalty"] as? Double
            let containsEOS = (c.section("rollout")["contain_eos_token"] as? [Int] ?? []).map { $0 != 0 }
            let scores = PPOMath.penalized(c.vector("inputs", "scores"), containsEOS: containsEOS, penalty: penalty)
            close(scores, c.vector("rollout", "scores"), "\(c.name): scores after the missing-eos penalty")
            let rollout = PPOMath.Rollout(rows: b, time: t, lastIndex: lastIndex, logprobs: c.matrix("inputs", "logprobs"),
                                          refLogprobs: c.matrix("inputs", "ref_logprobs"), values: c.matrix("inputs", "values"),
                                          scores: scores)
            XCTAssertEqual(rollout.validMask.map { 1 - $0 }, c.matrix("rollout", "padding_mask"), "\(c.name): padding_mask")
            XCTAssertEqual(rollout.validP1Mask.map { 1 - $0 }, c.matrix("rollout", "padding_mask_p1"), "\(c.name): padding_mask_p1")
            let p = PPOMath.process(rollout, math)
            XCTAssertEqual(p.scoreIndex, c.section("rollout")["score_index"] as? [Int], "\(c.name): where the score goes")
            close(p.logprobs, c.matrix("rollout", "logprobs"), "\(c.name): masked logprobs")
            close(p.refLogprobs, c.matrix("rollout", "ref_logprobs"), "\(c.name): masked ref logprobs")
            close(p.values, c.matrix("rollout", "values"), "\(c.name): masked values")
            close(p.kl, c.matrix("rollout", "kl"), "\(c.name): kl")
            close(p.nonScoreReward, c.matrix("rollout", "non_score_reward"), "\(c.name): non-score reward")
            close(p.rewards, c.matrix("rollout", "rewards"), "\(c.name): rewards")
            close(p.returns, c.matrix("rollout", "returns"), "\(c.name): returns")
            close(p.advantages, c.matrix("rollout", "advantages"), "\(c.name): advantages")
            for key in ["objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores"] {
                let expected = c.number("metrics", key)
                XCTAssertEqual(try XCTUnwrap(p.metrics[key]), expected, accuracy: 1e-6 * max(abs(expected), 1), "\(c.name): \(key)")
            }
        }
    }

    func testLossesGradientsAndStatisticsMatchTRL() throws {
        for c in try cases() {
            let (math, lossSettings) = try settings(c)
            let responses = c.section("inputs")["responses"] as? [[Int]] ?? []
            let t = responses.first?.count ?? 0
            let lastIndex = (c.section("rollout")["sequence_lengths"] as? [Int]) ?? []
            let rollout = PPOMath.Rollout(rows: responses.count, time: t, lastIndex: lastIndex, logprobs: c.matrix("inputs", "logprobs"),
                                          refLogprobs: c.matrix("inputs", "ref_logprobs"), values: c.matrix("inputs", "values"),
                                          scores: c.vector("rollout", "scores"))
            let p = PPOMath.process(rollout, math)
            let rows = try XCTUnwrap(c.section("inputs")["micro_batch_inds"] as? [Int])
            func pick(_ x: [Double]) -> [Double] { rows.flatMap { x[($0 * t)..<(($0 + 1) * t)] } }
            let input = PPOLoss.Input(rows: rows.count, time: t, valid: pick(rollout.validMask), validP1: pick(rollout.validP1Mask),
                                      newLogprobs: c.matrix("inputs", "new_logprobs"), oldLogprobs: pick(p.logprobs),
                                      advantages: pick(p.advantages), newValues: c.matrix("inputs", "new_values"),
                                      oldValues: pick(p.values), returns: pick(p.returns))
            let r = PPOLoss.compute(input, lossSettings)
            for (value, key) in [(r.pgLoss, "pg_loss"), (r.vfLoss, "vf_loss"), (r.loss, "loss"), (r.approxKL, "approxkl"),
                                 (r.ratioMean, "ratio_mean")] {
                let expected = c.number("micro_batch", key)
                XCTAssertEqual(value, expected, accuracy: 1e-6 * max(abs(expected), 1e-3), "\(c.name): \(key)")
            }
            // TRL keeps the clip fractions in float32.
            XCTAssertEqual(r.pgClipfrac, c.number("micro_batch", "pg_clipfrac"), accuracy: 1e-6, "\(c.name): pg_clipfrac")
            XCTAssertEqual(r.vfClipfrac, c.number("micro_batch", "vf_clipfrac"), accuracy: 1e-6, "\(c.name): vf_clipfrac")
            close(r.logprobGradient, c.matrix("micro_batch", "grad_new_logprobs"), "\(c.name): d loss / d new logprobs")
            close(r.valueGradient, c.matrix("micro_batch", "grad_new_values"), "\(c.name): d loss / d new values")
        }
    }

    /// The losses' gradients against central finite differences, with ratios and values on both
    /// sides of their clip ranges.
    func testGradientsAgainstFiniteDifferences() {
        var rng = SeededGeneratorForTests(seed: 4)
        let (b, t) = (3, 4)
        let lastIndex = [1, 3, 2]
        let valid = (0..<(b * t)).map { Double($0 % t <= lastIndex[$0 / t] ? 1 : 0) }
        let validP1 = (0..<(b * t)).map { Double($0 % t <= lastIndex[$0 / t] + 1 ? 1 : 0) }
        let input = PPOLoss.Input(rows: b, time: t, valid: valid, validP1: validP1,
                                  newLogprobs: (0..<(b * t)).map { _ in -1 - rng.next() }, oldLogprobs: (0..<(b * t)).map { _ in -1 - rng.next() },
                                  advantages: (0..<(b * t)).map { _ in rng.next() * 2 - 1 }, newValues: (0..<(b * t)).map { _ in rng.next() },
                                  oldValues: (0..<(b * t)).map { _ in rng.next() }, returns: (0..<(b * t)).map { _ in rng.next() * 2 })
        var settings = PPOLoss.Settings()
        settings.cliprange = 0.3
        settings.cliprangeValue = 0.15
        settings.vfCoef = 0.5
        let r = PPOLoss.compute(input, settings)
        let h = 1e-6
        for k in 0..<(b * t) {
            var plus = input, minus = input
            plus.newLogprobs[k] += h
            minus.newLogprobs[k] -= h
            let numeric = (PPOLoss.compute(plus, settings).loss - PPOLoss.compute(minus, settings).loss) / (2 * h)
            XCTAssertEqual(r.logprobGradient[k], numeric, accuracy: 1e-7, "logprob \(k)")
            plus = input
            minus = input
            plus.newValues[k] += h
            minus.newValues[k] -= h
            let numericV = (PPOLoss.compute(plus, settings).loss - PPOLoss.compute(minus, settings).loss) / (2 * h)
            XCTAssertEqual(r.valueGradient[k], numericV, accuracy: 1e-7, "value \(k)")
        }
        XCTAssertGreaterThan(r.pgClipfrac, 0, "some ratios are clipped")
        XCTAssertGreaterThan(r.vfClipfrac, 0, "some values are clipped")
    }
}

/// Uniform doubles in [0, 1) from a fixed seed (splitmix64).
struct SeededGeneratorForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
