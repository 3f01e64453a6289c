import TestSupport
import XCTest
@testable import TensorCore

/// LoRA adapters in the linear op and the fused ops: gradients of x, A and B against finite
/// differences (with and without dropout, base frozen or not), and the fused ops with adapters
/// bitwise equal to their compositions of `linear(x, layer)`.
extension FusedOpTests {
    func adapter(in inF: Int, out outF: Int, rank: Int = 3, scaling: Float = 1.5, dropout: Float = 0, key: UInt64 = 0) -> LoRAAdapter {
        LoRAAdapter(a: tensor([rank, inF], std: 0.5), b: tensor([outF, rank], std: 0.5), scaling: scaling, dropout: dropout, dropoutKey: key)
    }

    func testAdapterGradientsAgainstFiniteDifferences() {
        for (frozen, dropout) in [(true, Float(0)), (false, 0), (true, 0.3)] {
            let x = tensor([2, 4, 6]), w = tensor([5, 6], requiresGrad: !frozen), bias = tensor([5], requiresGrad: !frozen)
            let lora = adapter(in: 6, out: 5, dropout: dropout, key: 99)
            let layer = LinearWeights(w, bias: bias, adapter: lora)
            GradientCheck().run("linear with adapter (base frozen: \(frozen), dropout \(dropout))", inputs: [x, w, bias, lora.a, lora.b]) { tape, _ in
                [tape.linear(x, layer)]
            }
        }
    }

    func testAdapterWithZeroBIsTheBaseLayer() {
        let x = tensor([3, 6]), w = tensor([5, 6]), bias = tensor([5])
        let lora = LoRAAdapter(a: tensor([4, 6]), b: Tensor(zeros: [5, 4], requiresGrad: true), scaling: 2)
        let adapted = Tape(recording: false).linear(x, LinearWeights(w, bias: bias, adapter: lora)).values
        XCTAssertEqual(adapted, Tape(recording: false).linear(x, w, bias: bias).values)
    }

    func testDropoutMaskIsTheKeysAndScalesKeptInputs() {
        let x = Tensor(shape: [1, 4000], values: [Float](repeating: 1, count: 4000))
        let lora = LoRAAdapter(a: Tensor(zeros: [1, 4000]), b: Tensor(zeros: [1, 1]), scaling: 1, dropout: 0.25, dropoutKey: 5)
        func masked(_ adapter: LoRAAdapter) -> [Float] {
            AdapterKernel.withDropped(x.data, adapter, rows: 1) { Array(UnsafeBufferPointer(start: $0, count: 4000)) }
        }
        let first = masked(lora)
        XCTAssertEqual(first, masked(lora), "the same key draws the same mask")
        let other = masked(LoRAAdapter(a: lora.a, b: lora.b, scaling: 1, dropout: 0.25, dropoutKey: 6))
        XCTAssertNotEqual(first, other, "another key draws another mask")
        let kept = first.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 4000, 0.75, accuracy: 0.03, "kept fraction")
        XCTAssertTrue(kept.allSatisfy { $0 == 1 / 0.75 }, "kept inputs are scaled by 1 / (1 - p)")
    }

    func testFusedOpsWithAdaptersAreTheirCompositionsBitwise() {
        for (frozen, dropout) in [(true, Float(0)), (false, 0), (true, 0.2)] {
            let (rows, c, inner) = (5, 12, 37)
            let x = tensor([2, rows, c]), norm = normWeight(c)
            let base = { (o: Int, i: Int) in self.tensor([o, i], std: 0.3, requiresGrad: !frozen) }
            let gate = LinearWeights(base(inner, c), bias: nil, adapter: adapter(in: c, out: inner, dropout: dropout, key: 1))
            let up = LinearWeights(base(inner, c), bias: tensor([inner], requiresGrad: !frozen))
            let down = LinearWeights(base(c, inner), bias: nil, adapter: adapter(in: inner, out: c, dropout: dropout, key: 2))
            let inputs = [x, norm] + gate.tensors + up.tensors + down.tensors
            for recomputeUp in [false, true] {
                assertSame(inputs, { tape in
                    [tape.gatedMLP(x, norm: norm, eps: 1e-5, gate: gate, up: up, down: down, recomputeUp: recomputeUp)]
                }, { tape in
                    let h = tape.rmsNorm(x, weight: norm, eps: 1e-5)
                    return [tape.linear(tape.swiglu(gate: tape.linear(h, gate), up: tape.linear(h, up)), down)]
                }, "gatedMLP with adapters (frozen \(frozen), dropout \(dropout), recomputeUp \(recomputeUp))")
            }

            let layers = [LinearWeights(base(8, c), bias: tensor([8]), adapter: adapter(in: c, out: 8, dropout: dropout, key: 3)),
                          LinearWeights(base(4, c), bias: nil),
                          LinearWeights(base(4, c), bias: nil, adapter: adapter(in: c, out: 4, dropout: dropout, key: 4))]
            assertSame([x, norm] + layers.flatMap(\.tensors), { tape in
                tape.normalizedLinears(x, norm: norm, eps: 1e-6, layers)
            }, { tape in
                let h = tape.rmsNorm(x, weight: norm, eps: 1e-6)
                return layers.map { tape.linear(h, $0) }
            }, "normalizedLinears with adapters (frozen \(frozen), dropout \(dropout))")

            let (b, t, hkv, group, d) = (2, 6, 2, 2, 3)
            let q = tensor([b, t, hkv * group, d]), k = tensor([b, t, hkv, d]), v = tensor([b, t, hkv, d])
            let output = LinearWeights(base(7, hkv * group * d), bias: nil, adapter: adapter(in: hkv * group * d, out: 7, dropout: dropout, key: 5))
            for recompute in [false, true] {
                assertSame([q, k, v] + output.tensors, { tape in
                    [tape.attention(q: q, k: k, v: v, output: output, recomputeAttended: recompute)]
                }, { tape in
                    [tape.linear(tape.reshape(tape.attention(q: q, k: k, v: v), [b, t, hkv * group * d]), output)]
                }, "attention with an adapted output (frozen \(frozen), dropout \(dropout), recompute \(recompute))")
            }
        }
    }
}
