import XCTest
import TestSupport
@testable import TensorCore

/// Every differentiable op against central finite differences, on seeded random shapes with odd
/// sizes (see GradientCheck for the objective and tolerances).
final class GradientCheckTests: XCTestCase {
    var rng = SeededGenerator(seed: 2024)
    let check = GradientCheck()

    func leaf(_ shape: [Int], std: Float = 1) -> Tensor { rng.normal(shape, std: std, requiresGrad: true) }
    func dim(_ range: ClosedRange<Int>) -> Int { range.lowerBound + rng.nextInt(below: range.count) }

    func testMatmulAllTranspositions() {
        for trial in 0..<3 {
            let (bt, m, k, n) = (dim(1...3), dim(1...7), dim(1...9), dim(1...6))
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = leaf(ta ? [bt, k, m] : [bt, m, k]), b = leaf(tb ? [bt, n, k] : [bt, k, n])
                check.run("matmul(ta: \(ta), tb: \(tb)) trial \(trial)", inputs: [a, b]) { tape, x in
                    [tape.matmul(x[0], x[1], transposeA: ta, transposeB: tb)]
                }
                let shared = leaf(tb ? [n, k] : [k, n])
                check.run("matmul shared b (ta: \(ta), tb: \(tb))", inputs: [a, shared]) { tape, x in
                    [tape.matmul(x[0], x[1], transposeA: ta, transposeB: tb)]
                }
            }
        }
    }

    func testLinearWithAndWithoutBias() {
        for _ in 0..<3 {
            let (rows, inF, outF) = (dim(1...9), dim(1...11), dim(1...7))
            let x = leaf([2, rows, inF]), w = leaf([outF, inF]), b = leaf([outF])
            check.run("linear", inputs: [x, w, b]) { tape, t in [tape.linear(t[0], t[1], bias: t[2])] }
            check.run("linear (no bias)", inputs: [x, w]) { tape, t in [tape.linear(t[0], t[1])] }
        }
    }

    func testElementwiseAndReductions() {
        let shape = [dim(1...5), dim(1...7)]
        let a = leaf(shape), b = leaf(shape), bias = leaf([shape[1]])
        check.run("add", inputs: [a, b]) { tape, x in [tape.add(x[0], x[1])] }
        check.run("mul", inputs: [a, b]) { tape, x in [tape.mul(x[0], x[1])] }
        check.run("scale", inputs: [a]) { tape, x in [tape.scale(x[0], -1.7)] }
        check.run("addBias", inputs: [a, bias]) { tape, x in [tape.addBias(x[0], x[1])] }
        check.run("sum", inputs: [a]) { tape, x in [tape.sum(x[0])] }
        check.run("mean", inputs: [a]) { tape, x in [tape.mean(x[0])] }
    }

    func testEmbeddingScattersRepeatedIds() {
        let (vocab, channels) = (dim(3...9), dim(1...6))
        let table = leaf([vocab, channels])
        let ids = (0..<10).map { _ in Int32(rng.nextInt(below: vocab)) } + [0, 0]
        check.run("embedding", inputs: [table]) { tape, x in [tape.embedding(x[0], ids: ids, idShape: [3, 4])] }
    }

    func testGatherRowsWithRepeats() {
        let x = leaf([3, dim(2...4), dim(1...6)])
        let rows = [0, 5, 5, 2, x.rows - 1]
        check.run("gatherRows", inputs: [x]) { tape, v in [tape.gatherRows(v[0], rows: rows)] }
    }

    func testRMSNorm() {
        for _ in 0..<3 {
            let x = leaf([dim(1...4), dim(1...5), dim(1...33)])
            let w = Tensor(shape: [x.lastDim], values: (0..<x.lastDim).map { _ in 1 + 0.2 * Float(rng.nextNormal()) },
                           requiresGrad: true)
            check.run("rmsNorm \(x.shape)", inputs: [x, w]) { tape, t in [tape.rmsNorm(t[0], weight: t[1], eps: 1e-5)] }
        }
    }

    func testRoPEWithExplicitPositions() {
        for _ in 0..<3 {
            let (b, t, h, d) = (dim(1...3), dim(1...6), dim(1...3), 2 * dim(1...5))
            let positions = (0..<(b * t)).map { _ in Int32(rng.nextInt(below: 50)) }
            let table = RotaryTable(positions: positions, headDim: d, theta: 10_000)
            let x = leaf([b, t, h, d])
            check.run("rope \(x.shape)", inputs: [x]) { tape, v in [tape.rope(v[0], table: table)] }
        }
    }

    func testAttentionGroupedQueryWithPaddingAndBias() {
        for trial in 0..<4 {
            let hkv = dim(1...2), group = dim(1...3)
            let (b, t, h, d) = (dim(1...3), dim(2...7), hkv * group, dim(1...5))
            let q = leaf([b, t, h, d]), k = leaf([b, t, hkv, d]), v = leaf([b, t, hkv, d])
            // Left-pad the last row by a random amount (its first queries see no key at all).
            var mask = [Int32](repeating: 1, count: b * t)
            let pad = rng.nextInt(below: t)
            for j in 0..<pad { mask[(b - 1) * t + j] = 0 }
            check.run("attention trial \(trial) H \(h) Hkv \(hkv) pad \(pad)", inputs: [q, k, v]) { tape, x in
                [tape.attention(q: x[0], k: x[1], v: x[2], keyMask: mask)]
            }
            // Packed rows: a shared prefix (1), then segments 2, 3, ... that see it and themselves, then padding.
            var segments = [Int32](repeating: 1, count: b * t)
            for row in 0..<b {
                let prefix = 1 + rng.nextInt(below: t), tail = rng.nextInt(below: 2)
                var segment: Int32 = 2
                for j in prefix..<max(prefix, t - tail) {
                    segments[row * t + j] = segment
                    if rng.nextInt(below: 3) == 0 { segment += 1 }
                }
                for j in max(prefix, t - tail)..<t { segments[row * t + j] = 0 }
            }
            check.run("attention with segments, trial \(trial) \(segments)", inputs: [q, k, v]) { tape, x in
                [tape.attention(q: x[0], k: x[1], v: x[2], keyMask: segments)]
            }
            let bias = leaf([b, h, t, t])
            check.run("attention with bias, trial \(trial)", inputs: [q, k, v, bias]) { tape, x in
                [tape.attention(q: x[0], k: x[1], v: x[2], keyMask: mask, bias: x[3], scale: 0.3)]
            }
        }
    }

    func testActivations() {
        let shape = [dim(1...5), dim(1...13)]
        let g = leaf(shape, std: 2), u = leaf(shape)
        check.run("silu", inputs: [g]) { tape, x in [tape.silu(x[0])] }
        check.run("swiglu", inputs: [g, u]) { tape, x in [tape.swiglu(gate: x[0], up: x[1])] }
    }

    func testSoftmaxAndLogSoftmax() {
        let x = leaf([dim(1...5), dim(2...17)], std: 2)
        check.run("softmax", inputs: [x]) { tape, v in [tape.softmax(v[0])] }
        check.run("logSoftmax", inputs: [x]) { tape, v in [tape.logSoftmax(v[0])] }
    }

    func testCrossEntropyWithIgnoredRows() {
        let (n, vocab) = (dim(3...9), dim(2...40))
        let logits = leaf([n, vocab], std: 2)
        var targets = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
        targets[1] = -100
        check.run("crossEntropy", inputs: [logits]) { tape, x in [tape.crossEntropy(logits: x[0], targets: targets)] }
    }

    func testTokenLogprobAndEntropyAtTemperatures() {
        for temperature: Float in [1, 0.7, 1.6] {
            let (n, vocab) = (dim(1...7), dim(2...70))
            let logits = leaf([n, vocab], std: 2)
            let targets = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
            check.run("tokenLogprob T=\(temperature) \(logits.shape)", inputs: [logits]) { tape, x in
                let r = tape.tokenLogprob(logits: x[0], targets: targets, temperature: temperature)
                return [r.logprob, r.entropy]
            }
        }
    }

    /// The LM-head form over several chunks: head and hidden trained (backward recomputes each
    /// chunk's logits; entropy differentiable and not) and the head frozen (LoRA's path: d hidden
    /// from the expected head row kept by the forward).
    func testTokenLogprobThroughTheHeadInChunks() {
        for temperature: Float in [1, 0.7] {
            let (n, width, vocab) = (dim(3...8), dim(2...9), dim(2...40))
            let hidden = leaf([n, width]), weight = leaf([vocab, width])
            let frozen = Tensor(shape: weight.shape, values: weight.values)
            let targets = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
            check.run("tokenLogprob(hidden:weight:) T=\(temperature) \(hidden.shape) \(weight.shape)", inputs: [hidden, weight]) { tape, x in
                let r = tape.tokenLogprob(hidden: x[0], weight: x[1], targets: targets, temperature: temperature,
                                          entropyGradient: true, chunkRows: 2)
                return [r.logprob, r.entropy]
            }
            check.run("tokenLogprob(hidden:weight:) logprob only T=\(temperature)", inputs: [hidden, weight]) { tape, x in
                [tape.tokenLogprob(hidden: x[0], weight: x[1], targets: targets, temperature: temperature, chunkRows: 3).logprob]
            }
            check.run("tokenLogprob(hidden:weight:) frozen head T=\(temperature)", inputs: [hidden]) { tape, x in
                [tape.tokenLogprob(hidden: x[0], weight: frozen, targets: targets, temperature: temperature, chunkRows: 2).logprob]
            }
        }
    }

    /// The checker itself must catch a wrong gradient: an op whose backward claims 3x while its
    /// forward computes 2x is reported.
    func testCheckerRejectsAWrongBackward() {
        let x = leaf([4, 3])
        let failure = check.firstFailure("inconsistent op", inputs: [x]) { tape, v in
            [tape.scale(v[0], tape.isRecording ? 3 : 2)]
        }
        XCTAssertNotNil(failure)
        XCTAssertNil(check.firstFailure("consistent op", inputs: [x]) { tape, v in [tape.scale(v[0], 2)] })
    }
}
