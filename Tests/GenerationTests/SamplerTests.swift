import TensorCore
import XCTest
@testable import Generation

/// Each sampler stage on 4-element distributions (table-driven, as llama.cpp's test-sampling).
final class SamplerTests: XCTestCase {
    /// Logits whose softmax is exactly the given probabilities.
    func candidates(_ probs: [Double]) -> Candidates { Candidates(logits: probs.map { Float(log($0)) }) }

    func kept(_ stage: any SamplerStage, _ probs: [Double]) -> (ids: [Int32], probs: [Double]) {
        var c = candidates(probs)
        stage.apply(&c)
        return (c.ids, c.probabilities())
    }

    func testTopK() {
        let table: [(k: Int, ids: [Int32])] = [(1, [3]), (2, [3, 2]), (3, [3, 2, 1]), (4, [0, 1, 2, 3]), (0, [0, 1, 2, 3])]
        for row in table {
            XCTAssertEqual(kept(TopK(row.k), [0.1, 0.2, 0.3, 0.4]).ids, row.ids, "top-k \(row.k)")
        }
        let two = kept(TopK(2), [0.1, 0.2, 0.3, 0.4]).probs
        XCTAssertEqual(two[0], 4.0 / 7.0, accuracy: 1e-6)
    }

    func testTopP() {
        let table: [(p: Double, ids: [Int32])] = [(0.0, [3]), (0.39, [3]), (0.5, [3, 2]), (0.69, [3, 2]), (0.71, [3, 2, 1]),
                                                  (0.95, [3, 2, 1, 0]), (1.0, [0, 1, 2, 3])]
        for row in table {
            XCTAssertEqual(kept(TopP(row.p), [0.1, 0.2, 0.3, 0.4]).ids, row.ids, "top-p \(row.p)")
        }
    }

    func testMinP() {
        let table: [(minP: Double, ids: [Int32])] = [(0.0, [0, 1, 2, 3]), (0.24, [3, 2, 1, 0]), (0.26, [3, 2, 1]),
                                                     (0.49, [3, 2, 1]), (0.51, [3, 2]), (0.76, [3]), (1.0, [3])]
        for row in table {
            XCTAssertEqual(kept(MinP(row.minP), [0.1, 0.2, 0.3, 0.4]).ids, row.ids, "min-p \(row.minP)")
        }
    }

    func testTemperature() {
        // Temperature 2 flattens: p_i proportional to sqrt(p_i).
        let flat = kept(Temperature(2), [0.1, 0.2, 0.3, 0.4]).probs
        let roots = [0.1, 0.2, 0.3, 0.4].map { $0.squareRoot() }
        for (a, b) in zip(flat, roots.map { $0 / roots.reduce(0, +) }) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let sharp = kept(Temperature(0.5), [0.1, 0.2, 0.3, 0.4]).probs
        XCTAssertEqual(sharp[3], 0.16 / 0.3, accuracy: 1e-6)
    }

    func testGreedyAndLogprobs() {
        var rng = SeededGenerator(seed: 1)
        let logits: [Float] = [0.5, 2, -1, 1.5]
        let greedy = logits.withUnsafeBufferPointer {
            TokenSampler.sample(logits: $0.baseAddress!, vocab: 4, config: .init(temperature: 0), rng: &rng)
        }
        XCTAssertEqual(greedy.token, 1)
        let lse = log(logits.map { exp(Double($0)) }.reduce(0, +))
        XCTAssertEqual(Double(greedy.logprob), 2 - lse, accuracy: 1e-6)
        // At temperature 0.5 the logprob is under softmax(logits / 0.5), whatever stages ran.
        let sampled = logits.withUnsafeBufferPointer {
            TokenSampler.sample(logits: $0.baseAddress!, vocab: 4, config: .init(temperature: 0.5, topK: 2), rng: &rng)
        }
        XCTAssertTrue([1, 3].contains(sampled.token))
        let lse2 = log(logits.map { exp(Double($0) / 0.5) }.reduce(0, +))
        XCTAssertEqual(Double(sampled.logprob), Double(logits[Int(sampled.token)]) / 0.5 - lse2, accuracy: 1e-5)
    }

    func testDrawFollowsTheDistribution() {
        var rng = SeededGenerator(seed: 2)
        let c = candidates([0.1, 0.2, 0.3, 0.4])
        var counts = [Int](repeating: 0, count: 4)
        let n = 40_000
        for _ in 0..<n { counts[Int(TokenSampler.draw(c, &rng))] += 1 }
        for (i, p) in [0.1, 0.2, 0.3, 0.4].enumerated() {
            XCTAssertEqual(Double(counts[i]) / Double(n), p, accuracy: 0.01)
        }
    }

    /// The temperature-only chain draws from the whole vocabulary in one exp pass: the same
    /// distribution as the candidate chain, and the logprob `logprob(of:)` gives.
    func testTemperatureOnlyDrawFollowsTheDistribution() {
        var rng = SeededGenerator(seed: 3)
        let logits: [Float] = [0.5, 2, -1, 1.5, -30]
        let temperature: Float = 0.7
        let weights = logits.map { exp(Double($0) / Double(temperature)) }
        var counts = [Int](repeating: 0, count: logits.count)
        let n = 40_000
        logits.withUnsafeBufferPointer { row in
            for _ in 0..<n {
                let (token, logprob, _) = TokenSampler.sample(logits: row.baseAddress!, vocab: logits.count,
                                                           config: .init(temperature: temperature), rng: &rng)
                counts[Int(token)] += 1
                XCTAssertEqual(logprob, TokenSampler.logprob(of: token, row: row.baseAddress!, vocab: logits.count, temperature: temperature))
            }
        }
        for (i, w) in weights.enumerated() {
            XCTAssertEqual(Double(counts[i]) / Double(n), w / weights.reduce(0, +), accuracy: 0.01, "token \(i)")
        }
    }

    /// Every path reports the entropy of softmax(logits / T) over the whole vocabulary (T = 1 for
    /// greedy), whatever top-k kept: computed here in Float64.
    func testEntropyOfTheTemperedDistribution() {
        var rng = SeededGenerator(seed: 4)
        let logits: [Float] = (0..<37).map { _ in Float(rng.nextNormal() * 3) }
        func expected(_ t: Double) -> Double {
            let z = logits.map { Double($0) / t }, m = z.max()!
            let w = z.map { exp($0 - m) }, total = w.reduce(0, +)
            return -zip(w, z).map { $0 / total * ($1 - m - log(total)) }.reduce(0, +)
        }
        for (config, t) in [(SamplingConfig(temperature: 0), 1.0), (SamplingConfig(temperature: 0.7), 0.7),
                            (SamplingConfig(temperature: 1.3, topK: 5), 1.3)] {
            let drawn = logits.withUnsafeBufferPointer {
                TokenSampler.sample(logits: $0.baseAddress!, vocab: logits.count, config: config, rng: &rng)
            }
            XCTAssertEqual(Double(drawn.entropy), expected(t), accuracy: 1e-5 * max(1, expected(t)), "\(config)")
        }
    }
}
