import XCTest
import TestSupport
@testable import TensorCore

/// `Tape.checkpointed` against the plain pass: the same values and gradients to the bit, through
/// decoder-like layers of fused ops (whose recording paths differ from their inference paths);
/// finite differences; and what it keeps alive.
final class CheckpointedTests: XCTestCase {
    var rng = SeededGenerator(seed: 211)

    /// The weights of a small pre-norm attention + gated-MLP layer. Legend: B 2, T 5, C 8, H 2, Hkv 1, D 4, I 11.
    struct Layer {
        let inputNorm: Tensor, qkv: [LinearWeights], o: LinearWeights
        let postNorm: Tensor, gate: LinearWeights, up: LinearWeights, down: LinearWeights
        var tensors: [Tensor] { [inputNorm, postNorm] + (qkv + [o, gate, up, down]).flatMap(\.tensors) }
    }
    static let (b, t, c, h, hkv, d, inner) = (2, 5, 8, 2, 1, 4, 11)

    func layer(frozenUp: Bool = false) -> Layer {
        let (c, h, hkv, d, inner) = (Self.c, Self.h, Self.hkv, Self.d, Self.inner)
        func w(_ shape: [Int], requiresGrad: Bool = true) -> Tensor { rng.normal(shape, std: 0.4, requiresGrad: requiresGrad) }
        func norm() -> Tensor {
            Tensor(shape: [c], values: (0..<c).map { _ in 1 + 0.2 * Float(rng.nextNormal()) }, requiresGrad: true)
        }
        return Layer(inputNorm: norm(),
                     qkv: [LinearWeights(w([h * d, c]), bias: w([h * d])), LinearWeights(w([hkv * d, c]), bias: nil),
                           LinearWeights(w([hkv * d, c]), bias: w([hkv * d]))],
                     o: LinearWeights(w([c, h * d]), bias: nil), postNorm: norm(),
                     gate: LinearWeights(w([inner, c]), bias: nil), up: LinearWeights(w([inner, c], requiresGrad: !frozenUp), bias: nil),
                     down: LinearWeights(w([c, inner]), bias: w([c])))
    }

    /// One layer on the residual stream x (B, T, C) with the ops DecoderModel uses.
    func run(_ tape: Tape, _ x: Tensor, _ l: Layer, mask: [Int32], rope: RotaryTable) -> Tensor {
        let (b, t, h, hkv, d) = (Self.b, Self.t, Self.h, Self.hkv, Self.d)
        let qkv = tape.normalizedLinears(x, norm: l.inputNorm, eps: 1e-5, l.qkv)
        let q = tape.rope(tape.reshape(qkv[0], [b, t, h, d]), table: rope)
        let k = tape.rope(tape.reshape(qkv[1], [b, t, hkv, d]), table: rope)
        let v = tape.reshape(qkv[2], [b, t, hkv, d])
        let attended = tape.add(x, tape.attention(q: q, k: k, v: v, keyMask: mask, output: l.o, recomputeAttended: true))
        return tape.add(attended, tape.gatedMLP(attended, norm: l.postNorm, eps: 1e-5, gate: l.gate, up: l.up, down: l.down))
    }

    struct Case {
        let frozenInput: Bool, frozenUp: Bool, checkpointFirst: Bool, checkpointSecond: Bool
    }

    func testGradientsEqualThePlainPassBitwise() {
        let cases = [Case(frozenInput: false, frozenUp: false, checkpointFirst: true, checkpointSecond: true),
                     Case(frozenInput: true, frozenUp: false, checkpointFirst: true, checkpointSecond: true),
                     Case(frozenInput: false, frozenUp: true, checkpointFirst: true, checkpointSecond: false),
                     Case(frozenInput: false, frozenUp: false, checkpointFirst: false, checkpointSecond: true)]
        let (b, t, c) = (Self.b, Self.t, Self.c)
        var mask = [Int32](repeating: 1, count: b * t)
        mask[t] = 0  // the second row is left-padded by one
        let rope = RotaryTable(positions: (0..<b * t).map { Int32($0 % t) }, headDim: Self.d, theta: 10_000)
        for options in cases {
            let x = rng.normal([b, t, c], requiresGrad: !options.frozenInput)
            let layers = [layer(frozenUp: options.frozenUp), layer()]
            let head = rng.normal([3, c], std: 0.4, requiresGrad: true)
            let inputs = [x, head] + layers.flatMap(\.tensors)
            let seed = (0..<b * t * 3).map { _ in Float(rng.nextNormal()) }
            // The input also reaches the head directly, so its gradient has a part from outside the
            // checkpointed layers, which arrives first.
            func pass(checkpointing: Bool) -> [[UInt32]] {
                for p in inputs { p.grad?.zero() }
                let tape = Tape()
                var y = x
                for (n, l) in layers.enumerated() {
                    let wrapped = checkpointing && (n == 0 ? options.checkpointFirst : options.checkpointSecond)
                    y = wrapped ? tape.checkpointed(y) { tape, y in self.run(tape, y, l, mask: mask, rope: rope) }
                                : run(tape, y, l, mask: mask, rope: rope)
                }
                let out = tape.linear(tape.add(y, x), head)
                let values = out.values
                tape.backward(out, seed: seed)
                return ([values] + inputs.map(\.gradValues)).map { $0.map(\.bitPattern) }
            }
            let (plain, checkpointed) = (pass(checkpointing: false), pass(checkpointing: true))
            XCTAssertEqual(plain.count, checkpointed.count)
            for (k, (want, got)) in zip(plain, checkpointed).enumerated() where want != got {
                let what = k == 0 ? "output" : "gradient of input \(k - 1) \(inputs[k - 1].shape)"
                let i = zip(want, got).enumerated().first { $0.element.0 != $0.element.1 }!.offset
                XCTFail("\(options): \(what) differs at \(i): plain \(Float(bitPattern: want[i])), checkpointed \(Float(bitPattern: got[i]))")
            }
            XCTAssertTrue(inputs.filter(\.requiresGrad).allSatisfy { $0.gradValues.contains { $0 != 0 } },
                          "\(options): an input's gradient stayed zero")
        }
    }

    func testFiniteDifferences() {
        let (x, w, norm) = (rng.normal([3, 6], requiresGrad: true), rng.normal([9, 6], std: 0.5, requiresGrad: true),
                            rng.normal([6], requiresGrad: true))
        let down = rng.normal([6, 9], std: 0.5, requiresGrad: true)
        GradientCheck().run("checkpointed(rmsNorm, linear, swiglu, linear, add)", inputs: [x, w, norm, down]) { tape, t in
            let (w, norm, down) = (t[1], t[2], t[3])
            let y = tape.checkpointed(t[0]) { tape, x in
                let h = tape.linear(tape.rmsNorm(x, weight: norm, eps: 1e-5), w)
                return tape.add(x, tape.linear(tape.swiglu(gate: h, up: h), down))
            }
            return [tape.scale(y, 1.5), y]
        }
    }

    func testNestedCheckpointsAndAnIdentityBody() {
        let x = rng.normal([4, 5], requiresGrad: true), w = rng.normal([5, 5], std: 0.5, requiresGrad: true)
        let seed = (0..<20).map { _ in Float(rng.nextNormal()) }
        func gradients(_ forward: (Tape) -> Tensor) -> [Float] {
            x.grad?.zero()
            w.grad?.zero()
            let tape = Tape()
            tape.backward(forward(tape), seed: seed)
            return x.gradValues + w.gradValues
        }
        let plain = gradients { tape in tape.linear(tape.linear(tape.linear(x, w), w), w) }
        let nested = gradients { tape in
            tape.checkpointed(x) { tape, x in tape.linear(tape.checkpointed(tape.linear(x, w)) { tape, h in tape.linear(h, w) }, w) }
        }
        XCTAssertEqual(plain.map(\.bitPattern), nested.map(\.bitPattern))
        let identity = gradients { tape in tape.checkpointed(x) { _, x in x } }
        XCTAssertEqual(Array(identity.prefix(20)), seed)
    }

    func testTheForwardKeepsOnlyTheInput() {
        let x = rng.normal([4, 6], requiresGrad: true), w = rng.normal([7, 6], requiresGrad: true)
        let head = rng.normal([3, 7])
        let tape = Tape()
        weak var inside: Storage?
        let y = tape.checkpointed(x) { tape, x in
            let h = tape.linear(x, w)  // linear keeps its input for the weight gradient
            let s = tape.scale(x, 2)
            inside = s.storage
            return tape.linear(tape.add(h, tape.linear(s, w)), head)
        }
        XCTAssertNil(inside, "the body's activations outlived its forward")
        XCTAssertEqual(tape.count, 1)
        XCTAssertTrue(y.requiresGrad)
        tape.backward(y, seed: [Float](repeating: 1, count: y.count))
        XCTAssertNotNil(x.grad)
        XCTAssertNotNil(w.grad)
        let inference = Tape(recording: false)
        XCTAssertFalse(inference.checkpointed(x) { tape, x in tape.linear(x, w) }.requiresGrad)
        XCTAssertEqual(inference.count, 0)
    }
}
