// Single-threaded fp32 GEMM with packed operands and an AVX2+FMA register-blocked micro-kernel,
// in the shape of BLIS/GotoBLAS (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", 2008):
//
//   for each column block of C (nc columns)            B block (kc, nc) packed, 512 KB (L2/L3)
//     for each slice of the inner dimension (kc)
//       pack op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels
//       for each row block of C (mc rows)              A block (mc, kc) packed, ~150 KB (L2)
//         pack op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels
//         for each NR-column panel                     its (kc, NR) panel stays in L1
//           for each MR-row panel: the micro-kernel    C tile (MR, NR) in 12 ymm registers
//
// Packing reads either orientation of A and B (8x8 in-register transposes where the stored rows
// run along K), so transposes cost nothing in the kernel. A short A (one row block, like the 64
// rows of a vocabulary projection) is packed once for the whole product. Panels are zero-padded;
// edge tiles use a micro-kernel of 4 or 2 rows when that covers them, and tiles narrower than NR
// go through a scratch tile. The threads of a product are the caller's (GEMM.swift splits C among
// the pool and calls this once per part). Measured against OpenBLAS: `grpo bench gemm --kernel`.
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define CK_GEMM_X86 1
#define CK_AVX2 __attribute__((target("avx2,fma")))
#else
#define CK_GEMM_X86 0
#endif

enum { MR = 6, NR = 16 };
/// The most floats of packed op(A) kept for a whole product (192 KB, within a 512 KB L2).
enum { A_ONCE_FLOATS = 48 * 1024 };

/// Per-thread packing buffers, grown on demand and kept (the pool's threads are persistent).
static _Thread_local float *pack_a_buf, *pack_b_buf;
static _Thread_local int64_t pack_a_cap, pack_b_cap;

static float *grow(float **buf, int64_t *cap, int64_t count) {
    if (*cap >= count) return *buf;
    free(*buf);
    // 64-byte aligned, rounded up to a multiple of 64 bytes as aligned_alloc requires.
    size_t bytes = ((size_t)count * sizeof(float) + 63) & ~(size_t)63;
    *buf = aligned_alloc(64, bytes);
    *cap = *buf ? count : 0;
    return *buf;
}

#if CK_GEMM_X86
/// In-register transpose: on return r[j] holds column j of the 8x8 block whose rows were r[0..7].
CK_AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/// A full panel of MR rows of a row-major A, steps p in [0, kc8) (kc8 a multiple of 8): 8 steps at a
/// time, 6 rows of 8 transposed into 8 steps of 6. Each step's 8-lane store spills 2 lanes into the
/// next step, which overwrites them; the last spills past the panel (the buffer has PACK_SLACK).
CK_AVX2 static void pack_a_rows_avx2(float *dst, const float *src, int64_t lda, int64_t kc8) {
    for (int64_t p = 0; p < kc8; p += 8, dst += 8 * MR) {
        __m256 r[8];
        for (int i = 0; i < MR; i++) r[i] = _mm256_loadu_ps(src + i * lda + p);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8(r);
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + j * MR, r[j]);
    }
}

/// A full panel of NR columns of op(B) from a B stored (n, k): 8 steps of p at a time, two 8x8
/// transposes (columns 0-7 and 8-15), for p in [0, kc8).
CK_AVX2 static void pack_b_columns_avx2(float *dst, const float *src, int64_t ldb, int64_t kc8) {
    for (int64_t p = 0; p < kc8; p += 8, dst += 8 * NR) {
        for (int half = 0; half < 2; half++) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + (half * 8 + i) * ldb + p);
            transpose8(r);
            for (int j = 0; j < 8; j++) _mm256_store_ps(dst + j * NR + half * 8, r[j]);
        }
    }
}
#endif

/// Floats allocated past each packing buffer for pack_a_rows_avx2's last spilling store.
enum { PACK_SLACK = 16 };

/// Steps p in [p_from, kc) of one panel of `width` values per step: dst[p * width + e] =
/// src[e * along + p * step] for the `count` valid values e, zeros after them.
static void pack_strided(float *dst, int64_t width, const float *src, int64_t count, int64_t along, int64_t step,
                         int64_t p_from, int64_t kc) {
    for (int64_t p = p_from; p < kc; p++) {
        int64_t e = 0;
        for (; e < count; e++) dst[p * width + e] = src[e * along + p * step];
        for (; e < width; e++) dst[p * width + e] = 0;
    }
}

/// A full panel's AVX2 transposing packer for steps [0, kc8): pack_a_rows_avx2 (width MR) or
/// pack_b_columns_avx2 (width NR); 0 where AVX2 is not used.
typedef void (*full_panel_packer)(float *dst, const float *src, int64_t ld, int64_t kc8);
#if CK_GEMM_X86
#define PACK_A_ROWS_AVX2 pack_a_rows_avx2
#define PACK_B_COLUMNS_AVX2 pack_b_columns_avx2
#else
#define PACK_A_ROWS_AVX2 0
#define PACK_B_COLUMNS_AVX2 0
#endif

/// `count` rows of src (row e at src + e * ld, steps p contiguous) as ceil(count / width) panels of
/// kc steps of `width` values (zero-padded): full panels go through `fast` for the first kc / 8 * 8
/// steps when it is given, the rest element by element.
static void pack_row_panels(full_panel_packer fast, float *dst, int64_t width, const float *src, int64_t ld,
                            int64_t count, int64_t kc) {
    for (int64_t r = 0; r < count; r += width, dst += width * kc, src += width * ld) {
        int64_t rows = count - r < width ? count - r : width;
        int64_t p = 0;
        if (rows == width && fast) {
            p = kc / 8 * 8;
            fast(dst, src, ld, p);
        }
        pack_strided(dst, width, src, rows, ld, 1, p, kc);
    }
}

/// op(A)[i0:i0+mc, p0:p0+kc] as ceil(mc / MR) panels, each kc steps of MR values (zero-padded rows).
static void pack_a(int avx2, float *dst, const float *a, int64_t lda, int trans, int64_t i0, int64_t mc, int64_t p0, int64_t kc) {
    if (!trans) {
        pack_row_panels(avx2 ? PACK_A_ROWS_AVX2 : 0, dst, MR, a + i0 * lda + p0, lda, mc, kc);
        return;
    }
    // A is stored (k, m): each step's MR values are contiguous.
    for (int64_t ir = 0; ir < mc; ir += MR, dst += MR * kc)
        pack_strided(dst, MR, a + p0 * lda + i0 + ir, mc - ir < MR ? mc - ir : MR, 1, lda, 0, kc);
}

/// Copies src[0..<count] (count a multiple of NR) as NR-float pieces to dst, dst + stride, ...
#if CK_GEMM_X86
CK_AVX2 static void copy_row_panels_avx2(float *dst, int64_t stride, const float *src, int64_t count) {
    for (int64_t j = 0; j < count; j += NR, dst += stride) {
        _mm256_store_ps(dst, _mm256_loadu_ps(src + j));
        _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + j + 8));
    }
}
#endif

/// op(B)[p0:p0+kc, j0:j0+nc] as ceil(nc / NR) panels, each kc steps of NR values (zero-padded columns).
static void pack_b(int avx2, float *dst, const float *b, int64_t ldb, int trans, int64_t p0, int64_t kc, int64_t j0, int64_t nc) {
    int64_t full = nc / NR * NR;
    if (!trans) {
        // Row by row across all panels, so each row of B is read front to back.
        for (int64_t p = 0; p < kc; p++) {
            const float *src = b + (p0 + p) * ldb + j0;
            int64_t j = 0;
#if CK_GEMM_X86
            if (avx2) {
                copy_row_panels_avx2(dst + p * NR, kc * NR, src, full);
                j = full;
            }
#endif
            for (; j < full; j += NR) memcpy(dst + j * kc + p * NR, src + j, NR * sizeof(float));
            if (full < nc) {
                float *tail = dst + full * kc + p * NR;
                int64_t c = 0;
                for (; c < nc - full; c++) tail[c] = src[full + c];
                for (; c < NR; c++) tail[c] = 0;
            }
        }
        return;
    }
    // B is stored (n, k): column j of op(B) is row j of b, contiguous along p.
    pack_row_panels(avx2 ? PACK_B_COLUMNS_AVX2 : 0, dst, NR, b + j0 * ldb + p0, ldb, nc, kc);
}

/// acc (MR, NR) row-major -> C: C = alpha * acc + beta * C over the valid rows and columns
/// (beta == 0 never reads C).
static void store_tile(const float *acc, float *c, int64_t ldc, int64_t rows, int64_t cols, float alpha, float beta) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) {
            float v = alpha * acc[r * NR + j];
            c[r * ldc + j] = beta == 0 ? v : v + beta * c[r * ldc + j];
        }
}

/// The portable micro-kernel: acc (MR, NR) = A panel (kc, MR)^T B panel (kc, NR).
static void tile_portable(int64_t kc, const float *pa, const float *pb, float *acc) {
    for (int i = 0; i < MR * NR; i++) acc[i] = 0;
    for (int64_t p = 0; p < kc; p++, pa += MR, pb += NR)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) acc[r * NR + j] += pa[r] * pb[j];
}

#if CK_GEMM_X86
/// The AVX2 micro-kernel for the first R (even, <= MR) rows of a tile: the (R, NR) tile of C in
/// 2R ymm accumulators (12 for R = 6); per step of p, 2 loads of B, R broadcasts of A, 2R FMAs.
/// Tiles of R rows and NR columns are written to C directly; narrower ones (cols < NR, or one
/// row fewer than R) go through a scratch tile. Instantiated for R = 6, 4, 2 so that short edge
/// tiles (64 rows = 10 x 6 + 4) do no wasted FMAs.
#define CK_TILE(R)                                                                                           \
    CK_AVX2 static void tile_avx2_##R(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,  \
                                       int64_t rows, int64_t cols, float alpha, float beta) {                \
        __m256 acc[R][2];                                                                                    \
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                            \
        /* The C tile is read (beta != 0) or write-allocated at the end: start fetching it now. */          \
        for (int64_t r = 0; r < rows; r++) {                                                                 \
            _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);                                          \
            _mm_prefetch((const char *)(c + r * ldc + NR - 1), _MM_HINT_T0);                                 \
        }                                                                                                    \
        int64_t p = 0;                                                                                       \
        for (; p + 4 <= kc; p += 4, pa += 4 * MR, pb += 4 * NR) {                                            \
            _mm_prefetch((const char *)(pa + 8 * MR), _MM_HINT_T0);                                          \
            for (int q = 0; q < 4; q++) {                                                                    \
                __m256 b0 = _mm256_load_ps(pb + q * NR), b1 = _mm256_load_ps(pb + q * NR + 8);               \
                for (int r = 0; r < R; r++) {                                                                \
                    __m256 a = _mm256_broadcast_ss(pa + q * MR + r);                                         \
                    acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                                           \
                    acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                                           \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        for (; p < kc; p++, pa += MR, pb += NR) {                                                            \
            __m256 b0 = _mm256_load_ps(pb), b1 = _mm256_load_ps(pb + 8);                                     \
            for (int r = 0; r < R; r++) {                                                                    \
                __m256 a = _mm256_broadcast_ss(pa + r);                                                      \
                acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                                               \
                acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                                               \
            }                                                                                                \
        }                                                                                                    \
        if (rows == R && cols == NR) {                                                                       \
            __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);                                    \
            for (int r = 0; r < R; r++) {                                                                    \
                float *cr = c + r * ldc;                                                                     \
                __m256 v0 = acc[r][0], v1 = acc[r][1];                                                       \
                if (alpha != 1) { v0 = _mm256_mul_ps(v0, va); v1 = _mm256_mul_ps(v1, va); }                  \
                if (beta != 0) {                                                                             \
                    v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);                                       \
                    v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), v1);                                   \
                }                                                                                            \
                _mm256_storeu_ps(cr, v0);                                                                    \
                _mm256_storeu_ps(cr + 8, v1);                                                                \
            }                                                                                                \
            return;                                                                                          \
        }                                                                                                    \
        float tile[MR * NR];                                                                                 \
        for (int r = 0; r < R; r++) {                                                                        \
            _mm256_storeu_ps(tile + r * NR, acc[r][0]);                                                      \
            _mm256_storeu_ps(tile + r * NR + 8, acc[r][1]);                                                  \
        }                                                                                                    \
        store_tile(tile, c, ldc, rows, cols, alpha, beta);                                                   \
    }
CK_TILE(6)
CK_TILE(4)
CK_TILE(2)
#undef CK_TILE

/// The tile of `rows` rows with the fewest accumulators that covers them.
CK_AVX2 static void tile_avx2(int64_t kc, const float *pa, const float *pb, float *c, int64_t ldc,
                              int64_t rows, int64_t cols, float alpha, float beta) {
    if (rows > 4) tile_avx2_6(kc, pa, pb, c, ldc, rows, cols, alpha, beta);
    else if (rows > 2) tile_avx2_4(kc, pa, pb, c, ldc, rows, cols, alpha, beta);
    else tile_avx2_2(kc, pa, pb, c, ldc, rows, cols, alpha, beta);
}
#endif

/// The cache blocking for one product: kc steps of the inner dimension per packed slice (all of K
/// up to 384, else halves up to 768, else 256), mc rows of A and nc columns of B per packed block.
/// The A block (mc, kc) is sized for about 150 KB of a 512 KB L2, the B block (kc, nc) for 512 KB;
/// each (kc, NR) B panel (at most 24 KB) stays in the 32 KB L1 while its tiles run. Measured on
/// this machine: nc from 256 to 2048 made no difference beyond the run-to-run noise.
static void blocking(int64_t k, int64_t *mc, int64_t *nc, int64_t *kc) {
    *kc = k <= 384 ? k : (k <= 768 ? (k + 1) / 2 : 256);
    int64_t rows = (150 * 1024 / 4) / *kc / MR * MR;
    *mc = rows < MR ? MR : rows;
    int64_t cols = (512 * 1024 / 4) / *kc / NR * NR;
    *nc = cols < NR ? NR : cols;
}

/// The tiles of C (mc, nc) at c from a packed A block (mc, kc) and packed B block (kc, nc).
static void macro_kernel(int avx2, int64_t kc, const float *pa, int64_t mc, const float *pb, int64_t nc,
                         float *c, int64_t ldc, float alpha, float beta) {
    float acc[MR * NR];
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t cols = nc - jr < NR ? nc - jr : NR;
        const float *panel_b = pb + jr * kc;
        for (int64_t ir = 0; ir < mc; ir += MR) {
            int64_t rows = mc - ir < MR ? mc - ir : MR;
            const float *panel_a = pa + ir * kc;
            float *tile_c = c + ir * ldc + jr;
#if CK_GEMM_X86
            if (avx2) {
                tile_avx2(kc, panel_a, panel_b, tile_c, ldc, rows, cols, alpha, beta);
                continue;
            }
#endif
            (void)avx2;
            tile_portable(kc, panel_a, panel_b, acc);
            store_tile(acc, tile_c, ldc, rows, cols, alpha, beta);
        }
    }
}

int ck_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0 || alpha == 0) {
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
        return 0;
    }
    int avx2 = ck_isa_level() == 2;
    int64_t mc, nc, kc;
    blocking(k, &mc, &nc, &kc);
    // A short op(A) (one row block, at most A_ONCE_FLOATS packed) is packed once for every K
    // slice and every column block, instead of once per column block.
    int64_t mpad = (m + MR - 1) / MR * MR;
    int a_once = m <= mc && mpad * k <= A_ONCE_FLOATS;
    int64_t mcp = (mc < m ? mc : m), ncp = (nc < n ? nc : n), kcp = (kc < k ? kc : k);
    float *pa = grow(&pack_a_buf, &pack_a_cap, (a_once ? mpad * k : ((mcp + MR - 1) / MR) * MR * kcp) + PACK_SLACK);
    float *pb = grow(&pack_b_buf, &pack_b_cap, ((ncp + NR - 1) / NR) * NR * kcp + PACK_SLACK);
    if (!pa || !pb) return -1;
    if (a_once)
        for (int64_t p0 = 0; p0 < k; p0 += kc) pack_a(avx2, pa + p0 * mpad, a, lda, trans_a, 0, m, p0, k - p0 < kc ? k - p0 : kc);
    for (int64_t j0 = 0; j0 < n; j0 += nc) {
        int64_t ncur = n - j0 < nc ? n - j0 : nc;
        for (int64_t p0 = 0; p0 < k; p0 += kc) {
            int64_t kcur = k - p0 < kc ? k - p0 : kc;
            pack_b(avx2, pb, b, ldb, trans_b, p0, kcur, j0, ncur);
            for (int64_t i0 = 0; i0 < m; i0 += mc) {
                int64_t mcur = m - i0 < mc ? m - i0 : mc;
                if (!a_once) pack_a(avx2, pa, a, lda, trans_a, i0, mcur, p0, kcur);
                macro_kernel(avx2, kcur, a_once ? pa + p0 * mpad : pa, mcur, pb, ncur, c + i0 * ldc + j0, ldc, alpha,
                             p0 == 0 ? beta : 1);
            }
        }
    }
    return 0;
}
