// Matrix products. Legend: Bt batch of matrices, M rows, K inner, N columns.

extension Tape {
    /// C = op(A) op(B), batched over a leading dimension.
    ///
    /// - a: (M, K), or (Bt, M, K); stored (K, M) / (Bt, K, M) when `transposeA`.
    /// - b: (K, N), shared by every batch, or (Bt, K, N); stored (N, K) / (Bt, N, K) when `transposeB`.
    /// - returns: (M, N), or (Bt, M, N) when either operand is batched.
    public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        checkShapes((a.rank == 2 || a.rank == 3) && (b.rank == 2 || b.rank == 3), "matmul",
                    "operands must be rank 2 or 3, got a \(a.shape) and b \(b.shape)")
        let batch = a.rank == 3 ? a.shape[0] : (b.rank == 3 ? b.shape[0] : 1)
        checkShapes(a.rank == 3 || b.rank == 2, "matmul", "a batched b needs a batched a: a \(a.shape), b \(b.shape)")
        checkShapes(a.rank == 2 || b.rank == 2 || a.shape[0] == b.shape[0], "matmul",
                    "batch sizes differ: a \(a.shape), b \(b.shape)")
        let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (ac, ar) : (ar, ac)
        let (k2, n) = transposeB ? (bc, br) : (br, bc)
        checkShapes(k == k2, "matmul", "inner dimensions differ: a \(a.shape)\(transposeA ? "^T" : ""), b \(b.shape)\(transposeB ? "^T" : "")")
        let bShared = b.rank == 2
        let y = output(a.rank == 3 ? [batch, m, n] : [m, n], [a, b])
        let aStride = ar * ac, bStride = bShared ? 0 : br * bc, cStride = m * n
        for i in 0..<batch {
            GEMM.sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                       a: a.data + i * aStride, lda: ac, b: b.data + i * bStride, ldb: bc,
                       c: y.data + i * cStride, ldc: n)
        }
        record(y) { dy in
            for i in 0..<batch {
                let dc = dy.pointer + i * cStride
                if a.requiresGrad {
                    let da = a.ensureGrad().pointer + i * aStride
                    if transposeA {
                        // dA (K, M) += op(B) dC^T
                        GEMM.sgemm(transA: transposeB, transB: true, m: k, n: m, k: n,
                                   a: b.data + i * bStride, lda: bc, b: dc, ldb: n, beta: 1, c: da, ldc: ac)
                    } else {
                        // dA (M, K) += dC op(B)^T
                        GEMM.sgemm(transA: false, transB: !transposeB, m: m, n: k, k: n,
                                   a: dc, lda: n, b: b.data + i * bStride, ldb: bc, beta: 1, c: da, ldc: ac)
                    }
                }
                if b.requiresGrad {
                    let db = b.ensureGrad().pointer + i * bStride
                    if transposeB {
                        // dB (N, K) += dC^T op(A)
                        GEMM.sgemm(transA: true, transB: transposeA, m: n, n: k, k: m,
                                   a: dc, lda: n, b: a.data + i * aStride, ldb: ac, beta: 1, c: db, ldc: bc)
                    } else {
                        // dB (K, N) += op(A)^T dC
                        GEMM.sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m,
                                   a: a.data + i * aStride, lda: ac, b: dc, ldb: n, beta: 1, c: db, ldc: bc)
                    }
                }
            }
        }
        return y
    }

    /// y = x W^T + bias, the Hugging Face `nn.Linear` convention.
    ///
    /// - x: (..., In); weight: (Out, In); bias: (Out) or nil.
    /// - returns: (..., Out)
    public func linear(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        checkLinear(x, weight, bias)
        let (rows, inF, outF) = (x.rows, weight.shape[1], weight.shape[0])
        let y = output(Array(x.shape.dropLast()) + [outF], [x, weight] + (bias.map { [$0] } ?? []))
        LinearKernel.forward(y.data, x.data, weight.data, bias?.data, rows: rows, in: inF, out: outF)
        record(y) { dy in
            LinearKernel.backward(dx: Tape.gradient(x), dw: Tape.gradient(weight), db: bias.flatMap(Tape.gradient),
                                  dy.pointer, x.data, weight.data, rows: rows, in: inF, out: outF)
        }
        return y
    }

    /// Checks a linear layer's shapes: x (..., In), weight (Out, In), bias (Out) or nil.
    func checkLinear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) {
        checkShapes(weight.rank == 2 && x.lastDim == weight.shape[1], "linear",
                    "x \(x.shape) does not match weight \(weight.shape) (Out, In)")
        if let bias { checkShapes(bias.shape == [weight.shape[0]], "linear", "bias \(bias.shape) for weight \(weight.shape)") }
    }
}

/// The kernels of `Tape.linear`, shared with fused ops that recompute a layer's input in backward.
enum LinearKernel {
    /// y (N, Out) <- x (N, In) W^T (In, Out) + b (Out) or nil
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                        _ b: UnsafePointer<Float>?, rows: Int, in inF: Int, out outF: Int) {
        if let b {
            for r in 0..<rows { (y + r * outF).update(from: b, count: outF) }
        }
        GEMM.sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x, lda: inF,
                   b: w, ldb: inF, beta: b == nil ? 0 : 1, c: y, ldc: outF)
    }

    /// dx (N, In) +=, dW (Out, In) +=, db (Out) += <- dy (N, Out), x, W; each gradient only when given.
    static func backward(dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                         _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                         rows: Int, in inF: Int, out outF: Int) {
        if let dx { inputGradient(dx, dy, w, rows: rows, in: inF, out: outF) }
        parameterGradients(dw: dw, db: db, dy, x, rows: rows, in: inF, out: outF)
    }

    /// dx (N, In) += dy (N, Out) W (Out, In)
    static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              rows: Int, in inF: Int, out outF: Int) {
        GEMM.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: dy, lda: outF,
                   b: w, ldb: inF, beta: 1, c: dx, ldc: inF)
    }

    /// dW (Out, In) +=, db (Out) += <- dy (N, Out), x (N, In); each only when given.
    static func parameterGradients(dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                                   _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, in inF: Int, out outF: Int) {
        if let dw {
            // dW (Out, In) += dy^T (Out, rows) x (rows, In)
            GEMM.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: dy, lda: outF,
                       b: x, ldb: inF, beta: 1, c: dw, ldc: inF)
        }
        if let db { Kernels.addRowSums(db, dy, rows: rows, cols: outF) }
    }
}
