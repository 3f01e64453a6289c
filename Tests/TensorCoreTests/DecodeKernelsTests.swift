import TestSupport
import XCTest
@testable import TensorCore

/// The decode step's raw kernels against plain references and the taped ops, on shapes that reach
/// every tile edge (rows not a multiple of 3, outputs not of 4, K and D not of 8), on the vector
/// and the portable path.
final class DecodeKernelsTests: XCTestCase {
    func random(_ count: Int, _ rng: inout SeededGenerator) -> [Float] { (0..<count).map { _ in rng.uniform(-1, 1) } }

    func bothPaths(_ body: (String) -> Void) {
        body("vector")
        FastMath.withPortableKernels { body("portable") }
    }

    func testLinearMatchesAPlainProduct() {
        var rng = SeededGenerator(seed: 21)
        // From 16 rows on the kernel runs blocked: rows in blocks of 63, K in blocks of <= 768 (with
        // a tail), the next weight rows prefetched.
        for (rows, n, k) in [(1, 5, 3), (2, 4, 8), (3, 13, 17), (4, 8, 64), (5, 40, 33), (7, 9, 16), (64, 36, 72),
                             (16, 7, 20), (17, 9, 1603), (130, 13, 800)] {
            let x = random(rows * k, &rng), w = Tensor(shape: [n, k], values: random(n * k, &rng))
            let bias = Tensor(shape: [n], values: random(n, &rng)), start = random(rows * n, &rng)
            for (withBias, accumulate) in [(false, false), (true, false), (true, true)] {
                var expected = [Float](repeating: 0, count: rows * n)
                for i in 0..<rows {
                    for j in 0..<n {
                        var s = 0.0
                        for t in 0..<k { s += Double(x[i * k + t]) * Double(w.data[j * k + t]) }
                        if withBias { s += Double(bias.data[j]) }
                        expected[i * n + j] = Float(s) + (accumulate ? start[i * n + j] : 0)
                    }
                }
                bothPaths { path in
                    let out = Tensor(shape: [rows, n], values: start)
                    x.withUnsafeBufferPointer { xb in
                        DecodeKernels.linear(xb.baseAddress!, rows: rows, [
                            .init(weight: w, bias: withBias ? bias : nil, out: out.data, outStride: n, accumulate: accumulate),
                        ])
                    }
                    assertClose(out.values, expected, tolerance: 1e-5,
                                "linear (\(rows), \(k)) x (\(n), \(k))^T bias \(withBias) accumulate \(accumulate), \(path)")
                }
            }
        }
    }

    /// A row's output is the same to the last bit whatever rows share its batch (plain and blocked
    /// paths, K in one block or several): generation's rows do not depend on each other.
    func testARowsProductDoesNotDependOnItsBatch() {
        var rng = SeededGenerator(seed: 25)
        for k in [72, 1603] {
            let rows = 70, n = 13
            let x = random(rows * k, &rng), w = Tensor(shape: [n, k], values: random(n * k, &rng))
            func product(_ first: Int, _ count: Int) -> [Float] {
                let out = Tensor(zeros: [count, n])
                x.withUnsafeBufferPointer { xb in
                    DecodeKernels.linear(xb.baseAddress! + first * k, rows: count, [.init(weight: w, out: out.data, outStride: n)])
                }
                return out.values
            }
            let all = product(0, rows)
            for (first, count) in [(0, 1), (69, 1), (3, 5), (10, 16), (40, 30)] {
                XCTAssertEqual(product(first, count), Array(all[(first * n)..<((first + count) * n)]),
                               "rows \(first)..<\(first + count) alone against within \(rows), K \(k)")
            }
        }
    }

    /// Products sharing an input, split across the pool, write each matrix's own columns.
    func testFusedProductsAcrossThePool() {
        var rng = SeededGenerator(seed: 22)
        let (rows, k) = (64, 96)
        let x = Tensor(shape: [rows, k], values: random(rows * k, &rng))
        let weights = [200, 40, 8].map { Tensor(shape: [$0, k], values: random($0 * k, &rng)) }
        let outs = weights.map { Tensor(zeros: [rows, $0.shape[0]]) }
        DecodeKernels.linear(x.data, rows: rows, zip(weights, outs).map { .init(weight: $0, out: $1.data, outStride: $0.shape[0]) })
        let tape = Tape(recording: false)
        for (w, out) in zip(weights, outs) {
            assertClose(out.values, tape.linear(x, w).values, tolerance: 1e-5, "product with \(w.shape)")
        }
    }

    func testSwigluLinearMatchesTheTapedOps() {
        var rng = SeededGenerator(seed: 23)
        for (rows, n, k) in [(1, 12, 16), (5, 40, 24), (64, 100, 32)] {
            let x = Tensor(shape: [rows, k], values: random(rows * k, &rng))
            let (wg, wu) = (Tensor(shape: [n, k], values: random(n * k, &rng)), Tensor(shape: [n, k], values: random(n * k, &rng)))
            let (bg, bu) = (Tensor(shape: [n], values: random(n, &rng)), Tensor(shape: [n], values: random(n, &rng)))
            let tape = Tape(recording: false)
            let expected = tape.swiglu(gate: tape.linear(x, wg, bias: bg), up: tape.linear(x, wu, bias: bu)).values
            bothPaths { path in
                let out = Tensor(zeros: [rows, n])
                DecodeKernels.swigluLinear(x.data, rows: rows, gate: wg, gateBias: bg, up: wu, upBias: bu, out: out.data, outStride: n)
                assertClose(out.values, expected, tolerance: 1e-5, "swiglu (\(rows), \(k)) -> \(n), \(path)")
            }
        }
    }

    /// RMSNorm and RoPE run the taped ops' kernels: equal to the last bit.
    func testRMSNormAndRopeEqualTheTapedOps() {
        var rng = SeededGenerator(seed: 24)
        let (heads, d, positions) = (3, 16, 7)
        let x = Tensor(shape: [positions, 1, heads, d], values: random(positions * heads * d, &rng))
        let w = Tensor(shape: [d], values: random(d, &rng))
        let table = RotaryTable(positions: (0..<Int32(positions)).map { $0 }, headDim: d, theta: 10_000)
        XCTAssertEqual(table.positionCount, positions)
        let tape = Tape(recording: false)
        let expected = tape.rope(tape.rmsNorm(x, weight: w, eps: 1e-6), table: table).values
        let y = Tensor(shape: x.shape, values: x.values)
        DecodeKernels.rmsNorm(y.data, y.data, weight: w, rows: positions * heads, eps: 1e-6)
        for p in 0..<positions { DecodeKernels.rope(y.data + p * heads * d, heads: heads, position: p, table: table) }
        XCTAssertEqual(y.values, expected)
    }

    func testCachedAttentionMatchesAPlainSoftmax() {
        var rng = SeededGenerator(seed: 25)
        // Query heads go in passes of 3 (2 + 2 for a final 4): G = 5, 6, 7 reach each mix.
        for (groups, length, d) in [(1, 1, 8), (2, 5, 13), (3, 9, 64), (2, 6, 72), (1, 11, 128), (4, 3, 40),
                                    (5, 7, 24), (6, 4, 64), (7, 10, 40)] {
            let q = random(groups * d, &rng), keys = random(length * d, &rng), values = random(length * d, &rng)
            // Key 1 is padding; the last key (this step's own) is visible whatever its mask says.
            let mask: [Int32] = (0..<length).map { $0 == 1 ? 0 : ($0 == length - 1 ? 0 : 1) }
            let scale = 1 / Float(d).squareRoot()
            var expected = [Float]()
            for g in 0..<groups {
                let visible = (0..<length).filter { mask[$0] != 0 || $0 == length - 1 }
                let scores = visible.map { j in scale * (0..<d).reduce(Float(0)) { $0 + q[g * d + $1] * keys[j * d + $1] } }
                let top = scores.max()!, e = scores.map { exp(Double($0 - top)) }, total = e.reduce(0, +)
                expected += (0..<d).map { t in Float(zip(visible, e).reduce(0.0) { $0 + $1.1 / total * Double(values[$1.0 * d + t]) }) }
            }
            bothPaths { path in
                var out = [Float](repeating: 0, count: groups * d), scores = [Float](repeating: 0, count: groups * length)
                DecodeKernels.attendCached(&out, q: q, keys: keys, values: values, keyMask: mask, length: length, groups: groups,
                                           headDim: d, scale: scale, scores: &scores)
                assertClose(out, expected, tolerance: 1e-5, "attention G \(groups), L \(length), D \(d), \(path)")
            }
        }
    }
}
