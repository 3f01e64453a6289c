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
/// Who owns the cores: a large product called from the main thread runs on BLAS's own threads
/// (one per pool thread); products inside pool tasks (attention runs one task per head) run with
/// BLAS single-threaded, so BLAS threads and pool threads never compete. `useSingleThreadedBLAS()`
/// must be called before such a parallel region.
public enum GEMM {
    /// Products below this many multiply-adds (M N K) run single-threaded.
    public static let threadedThreshold = 1 << 20

    /// The thread count last given to BLAS (main thread only).
    nonisolated(unsafe) private static var blasThreads = 0

    private static func setBLASThreads(_ n: Int) {
        if blasThreads == n { return }
        blasThreads = n
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(n))
        #endif
    }

    /// Makes BLAS single-threaded before a parallel region whose tasks call `sgemm`.
    public static func useSingleThreadedBLAS() { setBLASThreads(1) }

    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
        pool: ThreadPool = .shared
    ) {
        if m == 0 || n == 0 { return }
        if !pool.isInsideJob {
            setBLASThreads(m * n * k >= threadedThreshold ? pool.threadCount : 1)
        }
        blas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Splits a product across the pool by rows of C (or by columns when C is short and wide),
    /// each part on single-threaded BLAS: the alternative to BLAS's own threading, kept for
    /// `grpo bench gemm --pool-split`.
    public static func sgemmPoolSplit(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool = .shared
    ) {
        useSingleThreadedBLAS()
        let parts = pool.threadCount
        if m >= n || n < 64 * parts {
            pool.run(tasks: parts) { part in
                let lo = m * part / parts, hi = m * (part + 1) / parts
                if lo == hi { return }
                let aPart = transA ? a + lo : a + lo * lda
                blas(transA, transB, hi - lo, n, k, 1, aPart, lda, b, ldb, 0, c + lo * ldc, ldc)
            }
        } else {
            pool.run(tasks: parts) { part in
                let lo = (n * part / parts) & ~15, hi = part == parts - 1 ? n : (n * (part + 1) / parts) & ~15
                if lo >= hi { return }
                let bPart = transB ? b + lo * ldb : b + lo
                blas(transA, transB, m, hi - lo, k, 1, a, lda, bPart, ldb, 0, c + lo, ldc)
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
