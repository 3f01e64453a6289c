import XCTest
import TestSupport
@testable import TensorCore

/// Shapes big enough to take the threaded paths (BLAS threads, pool splits, per-head attention
/// tasks, row-parallel fused ops), against plain Float64 references.
final class LargeShapeTests: XCTestCase {
    var rng = SeededGenerator(seed: 77)

    /// C = op(A) op(B) in Float64.
    func referenceProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * m + i] : a[i * k + p]
                    let bv = transB ? b[j * k + p] : b[p * n + j]
                    total += Double(av) * Double(bv)
                }
                c[i * n + j] = Float(total)
            }
        }
        return c
    }

    /// Every kernel (ours with AVX2 and portable tiles, BLAS per pool thread, BLAS threading itself)
    /// against Float64, on shapes that leave edge tiles in both directions, split K into several
    /// packed slices (k > 384), take the pool's row and column splits, and with alpha, beta != 0
    /// and row strides wider than the matrices.
    func testEveryGEMMKernelMatchesReference() {
        let shapes = [(130, 257, 96), (16, 1500, 64), (300, 40, 128), (5, 7, 1), (6, 16, 3), (61, 45, 777), (7, 200, 1100)]
        for (m, n, k) in shapes {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                let (lda, ldb, ldc) = ((ta ? m : k) + 3, (tb ? k : n) + 5, n + 2)
                let aRows = ta ? k : m, bRows = tb ? n : k
                let a = rng.normal([aRows * lda]).values, b = rng.normal([bRows * ldb]).values
                let c0 = rng.normal([m * ldc]).values
                // The reference on the dense operands.
                let dense = { (x: [Float], rows: Int, cols: Int, ld: Int) in (0..<rows).flatMap { r in x[(r * ld)..<(r * ld + cols)] } }
                let product = referenceProduct(dense(a, aRows, ta ? m : k, lda), dense(b, bRows, tb ? k : n, ldb),
                                               m: m, n: n, k: k, transA: ta, transB: tb)
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 0.25), (1, 1)] {
                    var expected = c0
                    for i in 0..<m {
                        for j in 0..<n { expected[i * ldc + j] = alpha * product[i * n + j] + beta * c0[i * ldc + j] }
                    }
                    let runs: [(String, GEMM.Kernel, Bool)] = [("packed", .packed, false), ("packed portable", .packed, true),
                                                               ("blas", .blas, false), ("blas-threads", .blasThreads, false)]
                    for (name, kernel, portable) in runs {
                        var c = c0
                        let run = {
                            GEMM.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                                       beta: beta, c: &c, ldc: ldc, kernel: kernel)
                        }
                        if portable { FastMath.withPortableKernels(run) } else { run() }
                        assertClose(c, expected, tolerance: 1e-5,
                                    "\(name) \(m)x\(n)x\(k) ta \(ta) tb \(tb) alpha \(alpha) beta \(beta)")
                    }
                }
            }
        }
    }

    /// beta = 0 must not read C: NaN in C before the product may not leak into it.
    func testGEMMWithBetaZeroIgnoresOldC() {
        let (m, n, k) = (13, 35, 20)
        let a = rng.normal([m * k]).values, b = rng.normal([k * n]).values
        let expected = referenceProduct(a, b, m: m, n: n, k: k, transA: false, transB: false)
        for kernel in [GEMM.Kernel.packed, .blas] {
            var c = [Float](repeating: .nan, count: m * n)
            GEMM.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, kernel: kernel)
            assertClose(c, expected, tolerance: 1e-5, "\(kernel) with NaN in C")
        }
    }

    func testTokenLogprobOnALargeVocabularyMatchesFloat64() {
        let (n, vocab, temperature) = (37, 20_011, 0.7)
        let logits = rng.normal([n, vocab], std: 3)
        let targets = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
        let r = Tape(recording: false).tokenLogprob(logits: logits, targets: targets, temperature: Float(temperature))
        var lp = [Float](), ent = [Float]()
        for row in 0..<n {
            let s = (0..<vocab).map { Double(logits.data[row * vocab + $0]) / temperature }
            let m = s.max()!
            let logZ = m + log(s.reduce(0) { $0 + exp($1 - m) })
            lp.append(Float(s[Int(targets[row])] - logZ))
            ent.append(Float(s.reduce(0) { $0 - exp($1 - logZ) * ($1 - logZ) }))
        }
        assertClose(r.logprob.values, lp, tolerance: 1e-5, "logprob, V \(vocab)")
        assertClose(r.entropy.values, ent, tolerance: 1e-5, "entropy, V \(vocab)")
    }

    func testAttentionAtTrainingLengthMatchesFloat64() {
        let (b, t, h, hkv, d) = (2, 70, 4, 2, 16)
        let q = rng.normal([b, t, h, d]), k = rng.normal([b, t, hkv, d]), v = rng.normal([b, t, hkv, d])
        var mask = [Int32](repeating: 1, count: b * t)
        for j in 0..<9 { mask[t + j] = 0 }
        let out = Tape(recording: false).attention(q: q, k: k, v: v, keyMask: mask)
        var expected = [Float](repeating: 0, count: out.count)
        let scale = 1 / Double(d).squareRoot()
        for bi in 0..<b {
            for hi in 0..<h {
                let kv = hi / (h / hkv)
                for i in 0..<t {
                    let visible = (0...i).filter { mask[bi * t + $0] != 0 }
                    if visible.isEmpty { continue }
                    let scores = visible.map { j in
                        (0..<d).reduce(0.0) { $0 + Double(q.data[((bi * t + i) * h + hi) * d + $1])
                            * Double(k.data[((bi * t + j) * hkv + kv) * d + $1]) } * scale
                    }
                    let m = scores.max()!
                    let w = scores.map { exp($0 - m) }
                    let total = w.reduce(0, +)
                    for c in 0..<d {
                        var acc = 0.0
                        for (n, j) in visible.enumerated() { acc += w[n] / total * Double(v.data[((bi * t + j) * hkv + kv) * d + c]) }
                        expected[((bi * t + i) * h + hi) * d + c] = Float(acc)
                    }
                }
            }
        }
        assertClose(out.values, expected, tolerance: 1e-5, "attention T \(t)")
    }

    func testRowParallelOpsMatchTheirSerialRows() {
        // Big enough for parallelFor to split; each row must equal the same row computed alone.
        let x = rng.normal([512, 300])
        let w = rng.normal([300])
        let tape = Tape(recording: false)
        let all = tape.rmsNorm(x, weight: w, eps: 1e-6).values
        let soft = tape.softmax(x).values
        for row in [0, 255, 256, 511] {
            let single = Tensor(shape: [1, 300], values: Array(x.values[(row * 300)..<((row + 1) * 300)]))
            XCTAssertEqual(Array(all[(row * 300)..<((row + 1) * 300)]), tape.rmsNorm(single, weight: w, eps: 1e-6).values)
            XCTAssertEqual(Array(soft[(row * 300)..<((row + 1) * 300)]), tape.softmax(single).values)
        }
    }
}
