import XCTest
import TestSupport
@testable import TensorCore

/// The fused ops against the op-by-op compositions they stand for: the same values and gradients
/// to the bit (they run the same kernels in the same order and differ only in what they keep for
/// backward), on recording and inference tapes, with and without biases and frozen inputs.
final class FusedOpTests: XCTestCase {
    var rng = SeededGenerator(seed: 77)

    func tensor(_ shape: [Int], std: Float = 1, requiresGrad: Bool = true) -> Tensor {
        rng.normal(shape, std: std, requiresGrad: requiresGrad)
    }

    /// RMSNorm weights near 1.
    func normWeight(_ c: Int) -> Tensor {
        Tensor(shape: [c], values: (0..<c).map { _ in 1 + 0.2 * Float(rng.nextNormal()) }, requiresGrad: true)
    }

    /// The bit patterns of `forward`'s outputs and, after a backward pass with fixed random seeds on
    /// those outputs, of every input's gradient (zeros where none arrived).
    func bits(_ inputs: [Tensor], _ forward: (Tape) -> [Tensor]) -> [[UInt32]] {
        for x in inputs { x.grad?.zero() }
        let tape = Tape()
        let outputs = forward(tape)
        var seeds = SeededGenerator(seed: 9)
        let values = outputs.map(\.values)
        tape.backward(outputs, seeds: outputs.map { y in (0..<y.count).map { _ in Float(seeds.nextNormal()) } })
        return (values + inputs.map(\.gradValues)).map { $0.map(\.bitPattern) }
    }

    /// The bit patterns of `forward`'s outputs on an inference tape.
    func inferenceBits(_ forward: (Tape) -> [Tensor]) -> [[UInt32]] {
        forward(Tape(recording: false)).map { $0.values.map(\.bitPattern) }
    }

    /// Asserts that `fused` and `composition` give bitwise the same outputs and gradients, and the
    /// same outputs on an inference tape; a failure names the first differing value.
    func assertSame(_ inputs: [Tensor], _ fused: (Tape) -> [Tensor], _ composition: (Tape) -> [Tensor], _ label: String,
                    file: StaticString = #filePath, line: UInt = #line) {
        let recorded = (bits(inputs, fused), bits(inputs, composition))
        let inference = (inferenceBits(fused), inferenceBits(composition))
        for (kind, (got, want)) in [("", recorded), (" on an inference tape", inference)] {
            let outputs = want.count - (kind.isEmpty ? inputs.count : 0)
            for (k, (g, w)) in zip(got, want).enumerated() where g != w {
                let what = k < outputs ? "output \(k)" : "gradient of input \(k - outputs) \(inputs[k - outputs].shape)"
                let i = zip(g, w).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(g.count, w.count)
                let value = { (v: [UInt32]) in i < v.count ? "\(Float(bitPattern: v[i]))" : "none" }
                XCTFail("\(label)\(kind): \(what) differs at \(i): fused \(value(g)), composition \(value(w))", file: file, line: line)
                return
            }
            XCTAssertEqual(got.count, want.count, "\(label)\(kind): tensor counts", file: file, line: line)
        }
    }

    struct MLPCase {
        let bias: Bool, recomputeUp: Bool, frozen: Bool
    }

    func testGatedMLPIsItsCompositionBitwise() {
        let cases = [MLPCase(bias: true, recomputeUp: false, frozen: false), MLPCase(bias: false, recomputeUp: false, frozen: false),
                     MLPCase(bias: true, recomputeUp: true, frozen: false), MLPCase(bias: false, recomputeUp: true, frozen: false),
                     MLPCase(bias: true, recomputeUp: false, frozen: true), MLPCase(bias: true, recomputeUp: true, frozen: true)]
        for (trial, options) in cases.enumerated() {
            // I = 37: the sigma blocks of the inference path end off the 8-float grid.
            let (rows, c, inner) = (3 + trial, 12, 37)
            let x = tensor([2, rows, c], requiresGrad: !options.frozen), norm = normWeight(c)
            let gw = tensor([inner, c], std: 0.3), uw = tensor([inner, c], std: 0.3, requiresGrad: !options.frozen)
            let dw = tensor([c, inner], std: 0.3)
            let (gb, ub, db) = options.bias ? (tensor([inner]), tensor([inner]), tensor([c])) : (nil, nil, nil)
            let inputs = [x, norm, gw, uw, dw] + [gb, ub, db].compactMap { $0 }
            let composition = { (tape: Tape) -> [Tensor] in
                let h = tape.rmsNorm(x, weight: norm, eps: 1e-5)
                let gated = tape.swiglu(gate: tape.linear(h, gw, bias: gb), up: tape.linear(h, uw, bias: ub))
                return [tape.linear(gated, dw, bias: db)]
            }
            let fused = { (tape: Tape) -> [Tensor] in
                [tape.gatedMLP(x, norm: norm, eps: 1e-5, gate: LinearWeights(gw, bias: gb), up: LinearWeights(uw, bias: ub),
                               down: LinearWeights(dw, bias: db), recomputeUp: options.recomputeUp)]
            }
            assertSame(inputs, fused, composition, "gatedMLP \(options), x \(x.shape)")
        }
    }

    func testNormalizedLinearsIsItsCompositionBitwise() {
        for frozenX in [false, true] {
            let c = 10
            let x = tensor([2, 5, c], requiresGrad: !frozenX), norm = normWeight(c)
            let layers = [LinearWeights(tensor([8, c]), bias: tensor([8])), LinearWeights(tensor([4, c]), bias: nil),
                          LinearWeights(tensor([4, c]), bias: tensor([4]))]
            let inputs = [x, norm] + layers.flatMap(\.tensors)
            // Seeds reach the first and last outputs only: the middle layer's backward never runs.
            let composition = { (tape: Tape) -> [Tensor] in
                let h = tape.rmsNorm(x, weight: norm, eps: 1e-6)
                let ys = layers.map { tape.linear(h, $0.weight, bias: $0.bias) }
                return [ys[0], ys[2]]
            }
            let fused = { (tape: Tape) -> [Tensor] in
                let ys = tape.normalizedLinears(x, norm: norm, eps: 1e-6, layers)
                return [ys[0], ys[2]]
            }
            assertSame(inputs, fused, composition, "normalizedLinears, x frozen: \(frozenX)")
        }
    }

    func testAttentionWithOutputIsItsCompositionBitwise() {
        for recompute in [false, true] {
            let (b, t, hkv, group, d) = (2, 6, 2, 2, 3)
            let q = tensor([b, t, hkv * group, d]), k = tensor([b, t, hkv, d]), v = tensor([b, t, hkv, d])
            let w = tensor([7, hkv * group * d]), bias = tensor([7])
            // The second row is left-padded by two: its first queries see no key at all.
            var mask = [Int32](repeating: 1, count: b * t)
            mask[t] = 0
            mask[t + 1] = 0
            let inputs = [q, k, v, w, bias]
            let composition = { (tape: Tape) -> [Tensor] in
                let attended = tape.attention(q: q, k: k, v: v, keyMask: mask)
                return [tape.linear(tape.reshape(attended, [b, t, hkv * group * d]), w, bias: bias)]
            }
            let fused = { (tape: Tape) -> [Tensor] in
                [tape.attention(q: q, k: k, v: v, keyMask: mask, output: LinearWeights(w, bias: bias), recomputeAttended: recompute)]
            }
            assertSame(inputs, fused, composition, "attention with output, recompute \(recompute)")
        }
    }

    /// The LM-head form of tokenLogprob against linear + tokenLogprob: the same logprobs and
    /// entropies to the bit (the same products and kernels, a chunk of rows at a time); gradients
    /// within float rounding, as backward sums the head's gradient chunk by chunk and a frozen head
    /// takes d hidden from sum_j p_j W_j instead of the (R, V) product. Trained and frozen heads,
    /// one chunk, several, and chunks of one row.
    func testTokenLogprobThroughTheHeadIsItsComposition() {
        let (rows, width, vocab, temperature): (Int, Int, Int, Float) = (37, 24, 300, 0.8)
        for (frozen, chunk) in [(false, 5), (true, 5), (false, nil), (true, nil), (true, 1)] as [(Bool, Int?)] {
            let hidden = tensor([rows, width]), weight = tensor([vocab, width], std: 0.3, requiresGrad: !frozen)
            let targets = (0..<rows).map { _ in Int32(rng.nextInt(below: vocab)) }
            func run(fused: Bool, recording: Bool = true) -> (values: [Float], gradients: [Float]) {
                for x in [hidden, weight] { x.grad?.zero() }
                let tape = Tape(recording: recording)
                let r = fused ? tape.tokenLogprob(hidden: hidden, weight: weight, targets: targets, temperature: temperature, chunkRows: chunk)
                              : tape.tokenLogprob(logits: tape.linear(hidden, weight), targets: targets, temperature: temperature)
                var seeds = SeededGenerator(seed: 9)
                if recording { tape.backward([r.logprob], seeds: [(0..<rows).map { _ in Float(seeds.nextNormal()) }]) }
                if fused { XCTAssertFalse(r.entropy.requiresGrad, "the entropy is not differentiable unless asked") }
                return (r.logprob.values + r.entropy.values, hidden.gradValues + weight.gradValues)
            }
            let label = "frozen \(frozen), chunk \(chunk.map(String.init) ?? "default")"
            let (fused, composition) = (run(fused: true), run(fused: false))
            XCTAssertEqual(fused.values.map(\.bitPattern), composition.values.map(\.bitPattern), "\(label): logprob, entropy")
            XCTAssertEqual(run(fused: true, recording: false).values.map(\.bitPattern), composition.values.map(\.bitPattern),
                           "\(label): on an inference tape")
            XCTAssertTrue(fused.gradients.contains { $0 != 0 }, "\(label): gradients reached the inputs")
            assertClose(fused.gradients, composition.gradients, tolerance: 1e-5, "\(label): gradients of hidden and head")
        }
    }
}
