#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// The one matrix-multiply entry point: OpenBLAS on Linux, Accelerate on macOS.
///
/// Row-major: C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, where op transposes when
/// asked. `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored.
///
/// The engine owns the cores: BLAS runs single-threaded and large products are split across
/// `ThreadPool.shared` by rows of C (or by columns when C is short and wide), so BLAS threads
/// and pool threads never compete.
public enum GEMM {
    private static let singleThreadedBLAS: Void = {
        #if canImport(CBLAS)
        openblas_set_num_threads(1)
        #endif
    }()

    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        pool: ThreadPool = .shared
    ) {
        if m == 0 || n == 0 { return }
        _ = singleThreadedBLAS
        let parts = pool.threadCount
        let flops = 2 * m * n * k
        if parts == 1 || flops < 4 * pool.inlineThreshold {
            blas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        if m >= n || n < 64 * parts {
            // Split the rows of C and of op(A).
            pool.run(tasks: parts) { part in
                let lo = m * part / parts, hi = m * (part + 1) / parts
                if lo == hi { return }
                let aPart = transA ? a + lo : a + lo * lda
                blas(transA, transB, hi - lo, n, k, alpha, aPart, lda, b, ldb, beta, c + lo * ldc, ldc)
            }
        } else {
            // Split the columns of C and of op(B), on 16-float boundaries.
            pool.run(tasks: parts) { part in
                let lo = (n * part / parts) & ~15, hi = part == parts - 1 ? n : (n * (part + 1) / parts) & ~15
                if lo >= hi { return }
                let bPart = transB ? b + lo * ldb : b + lo
                blas(transA, transB, m, hi - lo, k, alpha, a, lda, bPart, ldb, beta, c + lo, ldc)
            }
        }
    }

    @inline(__always)
    private static func blas(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Dot product of two contiguous vectors.
    @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        cblas_sdot(Int32(count), x, 1, y, 1)
    }
}
