#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Legend: N rows, C classes (the last dimension).

enum SoftmaxKernel {
    /// Writes e = exp(scale * x - m) into y and returns m, the sum of e and its log, so that
    /// log softmax(scale * x)_j = scale * x_j - m - logSum.   x, y: (C); y may alias x; scale > 0.
    @inline(__always)
    static func expRow(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, scale: Float, cols: Int)
        -> (max: Float, sum: Double, logSum: Float) {
        let m = scale * FastMath.max(x, count: cols)
        let total = FastMath.expSum(y, x, scale: scale, shift: m, count: cols)
        return (m, total, Float(log(total)))
    }
}

extension Tape {
    /// Softmax over the last dimension.  x: (..., C)
    public func softmax(_ x: Tensor) -> Tensor {
        let (rows, cols) = (x.rows, x.lastDim)
        let y = output(x.shape, [x])
        ThreadPool.shared.parallelFor(rows, costPerItem: 8 * cols) { range in
            for r in range {
                let (_, total, _) = SoftmaxKernel.expRow(y.data + r * cols, x.data + r * cols, scale: 1, cols: cols)
                let inv = Float(1 / total)
                for c in 0..<cols { y.data[r * cols + c] *= inv }
            }
        }
        let gradient = x.gradientIfRequired  // the backward reads y, not x
        record(y) { dy in
            // dx = y * (dy - sum(dy * y))
            guard let gradient else { return }
            let dx = gradient.ensure().pointer
            for r in 0..<rows {
                let yr = y.data + r * cols, dyr = dy.pointer + r * cols
                let dot = GEMM.dot(yr, dyr, count: cols)
                for c in 0..<cols { dx[r * cols + c] += yr[c] * (dyr[c] - dot) }
            }
        }
        return y
    }

    /// Log-softmax over the last dimension.  x: (..., C)
    public func logSoftmax(_ x: Tensor) -> Tensor {
        let (rows, cols) = (x.rows, x.lastDim)
        let y = output(x.shape, [x])
        ThreadPool.shared.parallelFor(rows, costPerItem: 8 * cols) { range in
            for r in range {
                let xr = x.data + r * cols, yr = y.data + r * cols
                let (m, _, logSum) = SoftmaxKernel.expRow(yr, xr, scale: 1, cols: cols)
                for c in 0..<cols { yr[c] = xr[c] - m - logSum }
            }
        }
        let gradient = x.gradientIfRequired  // the backward reads y, not x
        record(y) { dy in
            // dx = dy - softmax * sum(dy)
            guard let gradient else { return }
            let dx = gradient.ensure().pointer
            let p = Storage(count: cols)
            for r in 0..<rows {
                let yr = y.data + r * cols, dyr = dy.pointer + r * cols
                let total = Kernels.sum(dyr, count: cols)
                _ = FastMath.expSum(p.pointer, yr, shift: 0, count: cols)
                for c in 0..<cols { dx[r * cols + c] += dyr[c] - p.pointer[c] * total }
            }
        }
        return y
    }
}
