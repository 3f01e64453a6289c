/// Shared raw-buffer helpers for the op kernels (outputs first, then inputs, then sizes).
enum Kernels {
    /// out[c] += sum over rows of x[r, c].  x: (rows, cols)
    static func addRowSums(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { out[c] += row[c] }
        }
    }

    /// y[i] += x[i]
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// y[i] += alpha * x[i]
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, alpha: Float, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }
}

extension Kernels {
    /// sum_i a[i] * b[i] * c[i], accumulated in 8 fp32 lanes (the compiler may not reorder a
    /// scalar float sum, so reductions are written with SIMD accumulators).
    @inline(__always)
    static func dot3(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            let vc = UnsafeRawPointer(c + i).loadUnaligned(as: SIMD8<Float>.self)
            acc += va * vb * vc
            i += 8
        }
        var total = acc.sum()
        while i < count {
            total += a[i] * b[i] * c[i]
            i += 1
        }
        return total
    }

    /// sum_i x[i], in 8 fp32 lanes.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }
}
