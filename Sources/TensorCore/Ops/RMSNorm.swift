// Legend: N rows, C channels.

/// RMSNorm as Hugging Face's LlamaRMSNorm computes it in fp32:
/// y = x * rsqrt(mean(x^2) + eps) * w.
enum RMSNormKernel {
    /// y (N, C), rstd (N) <- x (N, C), w (C)
    static func forward(_ y: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, rows: Int, cols: Int, eps: Float) {
        ThreadPool.shared.parallelFor(rows, costPerItem: 4 * cols) { range in
            for r in range {
                let xr = x + r * cols, yr = y + r * cols
                let ss = GEMM.dot(xr, xr, count: cols)
                let s = 1 / (ss / Float(cols) + eps).squareRoot()
                rstd[r] = s
                for c in 0..<cols { yr[c] = w[c] * (xr[c] * s) }
            }
        }
    }

    /// dx (N, C) +=, dw (C) += <- dy (N, C), x, w, rstd (N)
    ///
    /// With xh = x * s and g = dy * w:  dx = s * (g - xh * mean(g * xh));  dw = sum_rows dy * xh.
    static func backward(_ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>?,
                         _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                         _ rstd: UnsafePointer<Float>, rows: Int, cols: Int) {
        if let dx {
            ThreadPool.shared.parallelFor(rows, costPerItem: 6 * cols) { range in
                for r in range {
                    let xr = x + r * cols, dyr = dy + r * cols, dxr = dx + r * cols, s = rstd[r]
                    let m = Kernels.dot3(dyr, w, xr, count: cols) * s / Float(cols)
                    for c in 0..<cols { dxr[c] += s * (dyr[c] * w[c] - xr[c] * s * m) }
                }
            }
        }
        if let dw {
            for r in 0..<rows {
                let xr = x + r * cols, dyr = dy + r * cols, s = rstd[r]
                for c in 0..<cols { dw[c] += dyr[c] * xr[c] * s }
            }
        }
    }
}

extension Tape {
    /// RMSNorm over the last dimension.  x: (..., C), weight: (C) -> (..., C)
    public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
        checkShapes(weight.shape == [x.lastDim], "rmsNorm", "weight \(weight.shape) for x \(x.shape)")
        let (rows, cols) = (x.rows, x.lastDim)
        let y = output(x.shape, [x, weight])
        let rstd = Storage(count: rows)
        RMSNormKernel.forward(y.data, rstd.pointer, x.data, weight.data, rows: rows, cols: cols, eps: eps)
        record(y) { dy in
            RMSNormKernel.backward(x.requiresGrad ? x.ensureGrad().pointer : nil,
                                   weight.requiresGrad ? weight.ensureGrad().pointer : nil,
                                   dy.pointer, x.data, weight.data, rstd.pointer, rows: rows, cols: cols)
        }
        return y
    }
}
