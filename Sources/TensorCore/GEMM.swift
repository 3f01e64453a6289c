import CKernels
#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// The one matrix-multiply entry point: our packed kernel (CKernels/GEMMKernels.c, a 6x16 AVX2+FMA
/// micro-kernel) where the CPU has AVX2 and FMA; BLAS otherwise (OpenBLAS on Linux, Accelerate on
/// macOS).
///
/// Row-major: C (M, N) = alpha * op(A) (M, K) * op(B) (K, N) + beta * C, where op transposes when
/// asked. `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored.
///
/// Who owns the cores: the engine's pool, always. Each kernel call is single-threaded; a large
/// product called outside a pool job is split across the pool by rows of C (or by columns when C
/// is short and wide). Letting OpenBLAS thread products itself was measured too: its idle threads
/// spin in sched_yield after each call (230k system calls in 300 demo steps) and take the core from
/// the pool's next op. `grpo bench gemm --kernel blas|blas-threads` measures the BLAS modes.
public enum GEMM {
    /// Which code multiplies.
    public enum Kernel: String, Sendable, CaseIterable {
        /// Our packed kernel: AVX2+FMA tiles where the CPU has them, portable C tiles otherwise.
        case packed
        /// BLAS, one call per pool thread's part of C.
        case blas
        /// BLAS threading each product itself (benchmarks only; see above).
        case blasThreads = "blas-threads"

        /// The kernel the engine uses on this machine: packed with AVX2+FMA, else BLAS.
        public static var best: Kernel { ck_isa_level() == 2 ? .packed : .blas }
    }

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
        pool: ThreadPool = .shared, kernel: Kernel = .best
    ) {
        if m == 0 || n == 0 { return }
        _ = singleThreadedBLAS
        let one: (Bool, Bool, Int, Int, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int,
                  Float, UnsafeMutablePointer<Float>, Int) -> Void
        switch kernel {
        case .packed: one = packed
        case .blas: one = blas
        case .blasThreads:
            return sgemmBLASThreaded(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                     b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: pool.threadCount)
        }
        let parts = pool.threadCount
        if parts == 1 || pool.isInsideJob || m * n * k < splitThreshold {
            one(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n || n < 64 * parts {
            // Split the rows of C and of op(A).
            pool.run(tasks: parts) { part in
                let lo = m * part / parts, hi = m * (part + 1) / parts
                if lo == hi { return }
                let aPart = transA ? a + lo : a + lo * lda
                one(transA, transB, hi - lo, n, k, alpha, aPart, lda, b, ldb, beta, c + lo * ldc, ldc)
            }
        } else {
            // Split the columns of C and of op(B), on 16-float boundaries.
            pool.run(tasks: parts) { part in
                let lo = (n * part / parts) & ~15, hi = part == parts - 1 ? n : (n * (part + 1) / parts) & ~15
                if lo >= hi { return }
                let bPart = transB ? b + lo * ldb : b + lo
                one(transA, transB, m, hi - lo, k, alpha, a, lda, bPart, ldb, beta, c + lo, ldc)
            }
        }
    }

    /// One product on BLAS's own threads (benchmarks only).
    private static func sgemmBLASThreaded(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
    ) {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(threads))
        #endif
        blas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        #if canImport(CBLAS)
        openblas_set_num_threads(1)
        #endif
    }

    /// The packed kernel on the calling thread; BLAS if its packing buffers cannot be allocated.
    private static func packed(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb),
                    beta, c, Int64(ldc)) != 0 {
            blas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }

    private static func blas(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Dot product of two contiguous vectors, in one summation order on every machine (see ck_dot;
    /// BLAS's sdot picks its kernel by CPU, so its bits differ between CPUs).
    @inline(__always)
    public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        ck_dot(x, y, Int64(count))
    }
}
