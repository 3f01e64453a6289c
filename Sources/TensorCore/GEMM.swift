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
/// Who owns the cores: the engine's pool, always. BLAS runs single-threaded; a large product
/// called outside a pool job is split across the pool by rows of C (or by columns when C is short
/// and wide). Letting OpenBLAS thread products itself was measured too: its idle threads spin in
/// sched_yield after each call (230k system calls in 300 demo steps) and take the core from the
/// pool's next op. `grpo bench gemm --blas-threads` still measures that mode for comparison.
public enum GEMM {
    /// Products below this many multiply-adds (M N K) run on the calling thread.
    public static let splitThreshold = 1 << 19

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
        if parts == 1 || pool.isInsideJob || m * n * k < splitThreshold {
            blas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n || n < 64 * parts {
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

    /// One product on BLAS's own threads (for `grpo bench gemm --blas-threads` only).
    public static func sgemmBLASThreaded(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(threads))
        #endif
        blas(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
        #if canImport(CBLAS)
        openblas_set_num_threads(1)
        #endif
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
