import XCTest
import TestSupport
@testable import TensorCore

/// The C vector kernels (AVX2 where available) and their portable fallback against libm.
final class FastMathTests: XCTestCase {
    func evaluate(_ x: [Float], scale: Float, shift: Float) -> (y: [Float], sum: Double, weighted: Double) {
        var y = [Float](repeating: 0, count: x.count)
        let r = y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                FastMath.expSumWeighted(yb.baseAddress!, xb.baseAddress!, scale: scale, shift: shift, count: x.count)
            }
        }
        return (y, r.sum, r.weighted)
    }

    func testExpMatchesLibmOnBothPaths() {
        var rng = SeededGenerator(seed: 11)
        // Odd length for the scalar tail; values spanning underflow to large positive arguments.
        let x = (0..<1003).map { _ in rng.uniform(-100, 80) } + [0, -87.3, -88, 88]
        for portable in [false, true] {
            let r = portable ? FastMath.withPortableKernels { evaluate(x, scale: 1, shift: 0) } : evaluate(x, scale: 1, shift: 0)
            var sum = 0.0, weighted = 0.0
            for (xi, yi) in zip(x, r.y) {
                let exact = Foundation.exp(Double(xi))
                if xi < -87.33654 {
                    XCTAssertEqual(yi, 0, "exp(\(xi)) below the cut-off is 0 (portable: \(portable))")
                } else {
                    XCTAssertEqual(Double(yi), exact, accuracy: 3e-7 * exact, "exp(\(xi)) (portable: \(portable))")
                }
                sum += Double(yi)
                weighted += Double(yi) * Double(xi)
            }
            XCTAssertEqual(r.sum, sum, accuracy: 1e-6 * sum)
            XCTAssertEqual(r.weighted, weighted, accuracy: 1e-6 * abs(weighted))
        }
    }

    /// GEMM.dot gives the same bits on the AVX2 path and the portable one (one summation order on
    /// every machine), for lengths around the 32-lane blocks, and is accurate against fp64.
    func testDotIsTheSameBitsOnBothPaths() {
        var rng = SeededGenerator(seed: 13)
        for n in [1, 7, 31, 32, 33, 64, 95, 576, 1000, 4099] {
            let x = (0..<n).map { _ in rng.uniform(-2, 2) }, y = (0..<n).map { _ in rng.uniform(-2, 2) }
            let vector = GEMM.dot(x, y, count: n), portable = FastMath.withPortableKernels { GEMM.dot(x, y, count: n) }
            XCTAssertEqual(vector.bitPattern, portable.bitPattern, "n \(n): \(vector) vs \(portable)")
            let exact = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let magnitude = zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
            XCTAssertEqual(Double(vector), exact, accuracy: 1e-6 * magnitude + 1e-30, "n \(n)")
        }
    }

    func testScaleShiftAndMax() {
        var rng = SeededGenerator(seed: 12)
        let x = (0..<77).map { _ in rng.uniform(-5, 5) }
        let r = evaluate(x, scale: 1 / 0.7, shift: 2)
        for (xi, yi) in zip(x, r.y) {
            let exact = Foundation.exp(Double(xi) / 0.7 - 2)
            XCTAssertEqual(Double(yi), exact, accuracy: 1e-6 * exact)
        }
        for portable in [false, true] {
            let m = x.withUnsafeBufferPointer { b in
                portable ? FastMath.withPortableKernels { FastMath.max(b.baseAddress!, count: b.count) }
                         : FastMath.max(b.baseAddress!, count: b.count)
            }
            XCTAssertEqual(m, x.max()!)
        }
    }
}
