// Kernels of the one-token decode step: a few rows (the running batch) against weights and cached
// keys read in place. Legend: M rows, K inputs, N outputs (weight rows), L positions, D head dim.
//
// Why not BLAS here: with M <= ~64 rows a BLAS GEMM spends about as long packing each weight
// matrix as multiplying it (the packed panel is used by only M rows), every decode step, for every
// matrix; and the attention's products are too small for its call overhead. These kernels read
// each weight row once, in place, as dot products of K-contiguous rows.
#include "CKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define DK_X86 1
#include <immintrin.h>
#define DK_AVX2 __attribute__((target("avx2,fma")))
#define DK_INLINE static inline __attribute__((always_inline))
#else
#define DK_X86 0
#endif

// ---------------------------------------------------------------- linear
// y[i][j] (=|+=) dot(x_i, w_j) + bias[j], for i < m and j in [n0, n1).

static void linear_portable(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, const float *bias,
                            int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = n0; j < n1; j++) {
            float s = 0;
            for (int64_t t = 0; t < k; t++) s += x[i * ldx + t] * w[j * k + t];
            if (bias) s += bias[j];
            float *out = y + i * ldy + (j - n0);
            *out = accumulate ? *out + s : s;
        }
    }
}

#if DK_X86
// Lanes 0..<n of a vector load are real (n in 1...8), the rest read as 0.
static const int32_t dk_tail_mask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

DK_AVX2 DK_INLINE __m256i tail_mask(int64_t n) { return _mm256_loadu_si256((const __m256i *)(dk_tail_mask + 8 - n)); }

// The sums of four vectors' lanes, as one vector (a0, a1, a2, a3).
DK_AVX2 DK_INLINE __m128 reduce4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

DK_AVX2 DK_INLINE float reduce1(__m256 a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    return _mm_cvtss_f32(s);
}

DK_AVX2 DK_INLINE void store(float *y, float s, const float *bias, int accumulate) {
    if (bias) s += *bias;
    *y = accumulate ? *y + s : s;
}

// An R x C tile: rows i..<i+R of x against weight rows j..<j+C, over steps [t0, t1) of K. With
// R <= 3 and C <= 4 the R*C accumulators, R x vectors and one w vector fit the 16 ymm registers; 7
// loads per 12 FMAs keep the two FMA pipes the limit. Called with constant R and C, so the loops
// unroll. A K block that is not the first resumes the lane sums `state` holds (R*C vectors) and one
// that is not the last saves them there, so a row's sums are the same FMA chains however K is
// blocked and rows are grouped: a row's output does not depend on the other rows of the batch.
DK_AVX2 DK_INLINE void tile(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, int64_t k,
                            int64_t t0, int64_t t1, const float *bias, int accumulate, const int R, const int C,
                            float *state, int first, int last) {
    __m256 acc[3][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) acc[i][j] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(state + 8 * (i * C + j));
    int64_t t = t0;
    for (; t + 8 <= t1; t += 8) {
        __m256 xv[3];
        for (int i = 0; i < R; i++) xv[i] = _mm256_loadu_ps(x + i * ldx + t);
        for (int j = 0; j < C; j++) {
            __m256 wv = _mm256_loadu_ps(w + j * k + t);
            for (int i = 0; i < R; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (t < t1) {
        __m256i mask = tail_mask(t1 - t);
        __m256 xv[3];
        for (int i = 0; i < R; i++) xv[i] = _mm256_maskload_ps(x + i * ldx + t, mask);
        for (int j = 0; j < C; j++) {
            __m256 wv = _mm256_maskload_ps(w + j * k + t, mask);
            for (int i = 0; i < R; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (!last) {
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++) _mm256_storeu_ps(state + 8 * (i * C + j), acc[i][j]);
        return;
    }
    for (int i = 0; i < R; i++) {
        if (C == 4) {
            // (s + bias), then y + that: the roundings of BLAS's bias-initialised C and a residual add.
            __m128 s = reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
            if (bias) s = _mm_add_ps(s, _mm_loadu_ps(bias));
            if (accumulate) s = _mm_add_ps(_mm_loadu_ps(y + i * ldy), s);
            _mm_storeu_ps(y + i * ldy, s);
        } else {
            for (int j = 0; j < C; j++) store(y + i * ldy + j, reduce1(acc[i][j]), bias ? bias + j : 0, accumulate);
        }
    }
}

// From CK_LINEAR_BLOCKED_ROWS rows of x on (the header: the pool splits the two kinds of product
// differently), a weight group's products take long enough to hide the next group's fetch from
// memory, and the rows of x stream from L2 often enough to evict the group from L1: the blocked
// path below. With fewer, a product is bound by reading the weights once, which the hardware
// prefetcher streams best alone, and the plain loop's lower overhead per group wins.

// Rows of x per block (whole tiles), and the K steps of a block: a group's 4 weight rows (at most
// 4 x 768 floats, 12 KB) stay in L1 while the block's rows of x stream past them from L2.
enum { LINEAR_ROW_BLOCK = 63, LINEAR_K_BLOCK = 768 };

// Rows [0, m) of one K block against a group of C weight rows, in tiles of 3 rows (2 + 2 for a
// final 4, so no single row runs alone); before each tile, a slice of `lines` cache lines from
// `next` is prefetched (the next group's weights, read from memory while this group computes).
DK_AVX2 DK_INLINE void group_rows(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, int64_t k,
                                  int64_t t0, int64_t t1, const float *bias, int accumulate, const int C, float *state,
                                  int first, int last, int64_t m, const char *next, int64_t lines) {
    const int64_t tiles = m / 3 + 1, per = (lines + tiles - 1) / tiles;
    int64_t i = 0, line = 0;
    for (int64_t left = m; left > 0; left = m - i) {
        for (int64_t e = line + per < lines ? line + per : lines; line < e; line++) _mm_prefetch(next + 64 * line, _MM_HINT_T0);
        const int r = left == 4 || left == 2 ? 2 : (left >= 3 ? 3 : 1);
        float *yi = y + i * ldy, *si = state + 8 * C * i;
        const float *xi = x + i * ldx;
        if (r == 3) tile(yi, ldy, xi, ldx, w, k, t0, t1, bias, accumulate, 3, C, si, first, last);
        else if (r == 2) tile(yi, ldy, xi, ldx, w, k, t0, t1, bias, accumulate, 2, C, si, first, last);
        else tile(yi, ldy, xi, ldx, w, k, t0, t1, bias, accumulate, 1, C, si, first, last);
        i += r;
    }
}

// Many rows: weight rows in groups of 4, each against every row of x, block by block; each group
// prefetches the next one's rows (a decode step reads every weight matrix from memory once).
DK_AVX2 static void linear_blocked_avx2(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w,
                                        const float *bias, int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate) {
    float state[LINEAR_ROW_BLOCK * 4 * 8];
    const int64_t kBlocks = (k + LINEAR_K_BLOCK - 1) / LINEAR_K_BLOCK;
    const int64_t kStep = ((k + kBlocks - 1) / kBlocks + 7) & ~(int64_t)7;
    for (int64_t j = n0, c; j < n1; j += c) {
        c = n1 - j >= 4 ? 4 : 1;
        const float *wj = w + j * k, *bj = bias ? bias + j : 0;
        float *yj = y + (j - n0);
        const int64_t nextRows = n1 - j - c < 4 ? n1 - j - c : 4;
        const char *next = (const char *)(wj + c * k);
        for (int64_t r0 = 0; r0 < m; r0 += LINEAR_ROW_BLOCK) {
            const int64_t rows = m - r0 < LINEAR_ROW_BLOCK ? m - r0 : LINEAR_ROW_BLOCK;
            for (int64_t t0 = 0; t0 < k; t0 += kStep) {
                const int64_t t1 = t0 + kStep < k ? t0 + kStep : k;
                const int first = t0 == 0, last = t1 == k;
                const int64_t lines = r0 == 0 && first ? (nextRows * k * 4 + 63) / 64 : 0;  // during the first pass
                if (c == 4)
                    group_rows(yj + r0 * ldy, ldy, x + r0 * ldx, ldx, wj, k, t0, t1, bj, accumulate, 4, state, first, last,
                               rows, next, lines);
                else
                    group_rows(yj + r0 * ldy, ldy, x + r0 * ldx, ldx, wj, k, t0, t1, bj, accumulate, 1, state, first, last,
                               rows, next, lines);
            }
        }
    }
}

// Few rows: weight rows in groups of 4 (one group stays in L1 while every row of x passes), rows of
// x in threes, K in one pass.
DK_AVX2 static void linear_avx2(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, const float *bias,
                                int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate) {
    if (m >= CK_LINEAR_BLOCKED_ROWS) { linear_blocked_avx2(y, ldy, x, ldx, w, bias, m, n0, n1, k, accumulate); return; }
    int64_t j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *wj = w + j * k, *bj = bias ? bias + j : 0;
        float *yj = y + (j - n0);
        int64_t i = 0;
        for (; i + 3 <= m; i += 3) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, 0, k, bj, accumulate, 3, 4, 0, 1, 1);
        if (m - i == 2) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, 0, k, bj, accumulate, 2, 4, 0, 1, 1);
        if (m - i == 1) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, 0, k, bj, accumulate, 1, 4, 0, 1, 1);
    }
    for (; j < n1; j++) {
        const float *wj = w + j * k, *bj = bias ? bias + j : 0;
        float *yj = y + (j - n0);
        int64_t i = 0;
        for (; i + 3 <= m; i += 3) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, 0, k, bj, accumulate, 3, 1, 0, 1, 1);
        for (; i < m; i++) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, 0, k, bj, accumulate, 1, 1, 0, 1, 1);
    }
}
#endif

void ck_linear_columns(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, const float *bias,
                       int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate) {
    if (m <= 0 || n1 <= n0) return;
#if DK_X86
    if (ck_isa_level() == 2) { linear_avx2(y, ldy, x, ldx, w, bias, m, n0, n1, k, accumulate); return; }
#endif
    linear_portable(y, ldy, x, ldx, w, bias, m, n0, n1, k, accumulate);
}

// ---------------------------------------------------------------- attention
// G query heads (G, d) that share one kv head's keys and values (n, d), both contiguous.

#if DK_X86
// How many of the `left` query heads one pass takes: 3 (12 accumulators, 3 query and 1 shared
// vector fill the 16 ymm registers), 2 + 2 for 4. Each pass reads the kv head's keys or values
// once, so G = 3 (SmolLM2) reads them once, not twice as pairs did.
DK_INLINE int queries_per_pass(int64_t left) { return left == 4 ? 2 : (left >= 3 ? 3 : (int)left); }

// Q query heads q (Q, d) against keys (n, d): s[g][j] = scale * dot(q_g, keys_j). Keys in fours.
DK_AVX2 DK_INLINE void scores_pass(float *s, const float *q, const float *keys, int64_t n, int64_t d, float scale,
                                   const int Q) {
    const __m128 vscale = _mm_set1_ps(scale);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *k0 = keys + j * d;
        __m256 a[3][4];
        for (int h = 0; h < Q; h++)
            for (int c = 0; c < 4; c++) a[h][c] = _mm256_setzero_ps();
        int64_t t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 qv[3];
            for (int h = 0; h < Q; h++) qv[h] = _mm256_loadu_ps(q + h * d + t);
            for (int c = 0; c < 4; c++) {
                __m256 kv = _mm256_loadu_ps(k0 + c * d + t);
                for (int h = 0; h < Q; h++) a[h][c] = _mm256_fmadd_ps(qv[h], kv, a[h][c]);
            }
        }
        if (t < d) {
            __m256i mask = tail_mask(d - t);
            __m256 qv[3];
            for (int h = 0; h < Q; h++) qv[h] = _mm256_maskload_ps(q + h * d + t, mask);
            for (int c = 0; c < 4; c++) {
                __m256 kv = _mm256_maskload_ps(k0 + c * d + t, mask);
                for (int h = 0; h < Q; h++) a[h][c] = _mm256_fmadd_ps(qv[h], kv, a[h][c]);
            }
        }
        for (int h = 0; h < Q; h++) _mm_storeu_ps(s + h * n + j, _mm_mul_ps(vscale, reduce4(a[h][0], a[h][1], a[h][2], a[h][3])));
    }
    for (; j < n; j++) {
        const float *kj = keys + j * d;
        __m256 a[3];
        for (int h = 0; h < Q; h++) a[h] = _mm256_setzero_ps();
        int64_t t = 0;
        for (; t + 8 <= d; t += 8) {
            __m256 kv = _mm256_loadu_ps(kj + t);
            for (int h = 0; h < Q; h++) a[h] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * d + t), kv, a[h]);
        }
        if (t < d) {
            __m256i mask = tail_mask(d - t);
            __m256 kv = _mm256_maskload_ps(kj + t, mask);
            for (int h = 0; h < Q; h++) a[h] = _mm256_fmadd_ps(_mm256_maskload_ps(q + h * d + t, mask), kv, a[h]);
        }
        for (int h = 0; h < Q; h++) s[h * n + j] = scale * reduce1(a[h]);
    }
}

// s (G, n): s[g][j] = scale * dot(q_g, keys_j), query heads in passes of up to 3.
DK_AVX2 static void scores_avx2(float *s, const float *q, const float *keys, int64_t groups, int64_t n, int64_t d,
                                float scale) {
    for (int64_t g = 0, c; g < groups; g += c) {
        c = queries_per_pass(groups - g);
        if (c == 3) scores_pass(s + g * n, q + g * d, keys, n, d, scale, 3);
        else if (c == 2) scores_pass(s + g * n, q + g * d, keys, n, d, scale, 2);
        else scores_pass(s + g * n, q + g * d, keys, n, d, scale, 1);
    }
}

// Q query heads: out[g] = sum_j p[g][j] values_j, d in blocks of 32 lanes (4 FMA chains per query
// over j).
DK_AVX2 DK_INLINE void weighted_sum_pass(float *out, const float *p, const float *values, int64_t n, int64_t d,
                                         const int Q) {
    for (int64_t c = 0; c < d; c += 32) {
        int64_t width = d - c < 32 ? d - c : 32;
        __m256i mask[4];
        __m256 a[3][4];
        for (int b = 0; b < 4; b++) {
            int64_t lanes = width - 8 * b;
            mask[b] = tail_mask(lanes < 0 ? 0 : (lanes > 8 ? 8 : lanes));
            for (int h = 0; h < Q; h++) a[h][b] = _mm256_setzero_ps();
        }
        if (width == 32) {
            for (int64_t j = 0; j < n; j++) {
                __m256 wv[3];
                for (int h = 0; h < Q; h++) wv[h] = _mm256_set1_ps(p[h * n + j]);
                const float *v = values + j * d + c;
                for (int b = 0; b < 4; b++) {
                    __m256 vv = _mm256_loadu_ps(v + 8 * b);
                    for (int h = 0; h < Q; h++) a[h][b] = _mm256_fmadd_ps(wv[h], vv, a[h][b]);
                }
            }
        } else {
            for (int64_t j = 0; j < n; j++) {
                __m256 wv[3];
                for (int h = 0; h < Q; h++) wv[h] = _mm256_set1_ps(p[h * n + j]);
                const float *v = values + j * d + c;
                for (int b = 0; b < 4; b++) {
                    __m256 vv = _mm256_maskload_ps(v + 8 * b, mask[b]);
                    for (int h = 0; h < Q; h++) a[h][b] = _mm256_fmadd_ps(wv[h], vv, a[h][b]);
                }
            }
        }
        for (int b = 0; b < 4; b++)
            for (int h = 0; h < Q; h++) _mm256_maskstore_ps(out + h * d + c + 8 * b, mask[b], a[h][b]);
    }
}

// out (G, d): out[g] = sum_j p[g][j] * values_j, query heads in passes of up to 3.
DK_AVX2 static void weighted_sum_avx2(float *out, const float *p, const float *values, int64_t groups, int64_t n,
                                      int64_t d) {
    for (int64_t g = 0, c; g < groups; g += c) {
        c = queries_per_pass(groups - g);
        if (c == 3) weighted_sum_pass(out + g * d, p + g * n, values, n, d, 3);
        else if (c == 2) weighted_sum_pass(out + g * d, p + g * n, values, n, d, 2);
        else weighted_sum_pass(out + g * d, p + g * n, values, n, d, 1);
    }
}
#endif

void ck_attention_scores(float *s, const float *q, const float *keys, int64_t groups, int64_t n, int64_t d, float scale) {
#if DK_X86
    if (ck_isa_level() == 2) { scores_avx2(s, q, keys, groups, n, d, scale); return; }
#endif
    for (int64_t g = 0; g < groups; g++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0;
            for (int64_t t = 0; t < d; t++) acc += q[g * d + t] * keys[j * d + t];
            s[g * n + j] = scale * acc;
        }
}

void ck_weighted_sum(float *out, const float *p, const float *values, int64_t groups, int64_t n, int64_t d) {
#if DK_X86
    if (ck_isa_level() == 2) { weighted_sum_avx2(out, p, values, groups, n, d); return; }
#endif
    for (int64_t g = 0; g < groups; g++) {
        for (int64_t t = 0; t < d; t++) out[g * d + t] = 0;
        for (int64_t j = 0; j < n; j++)
            for (int64_t t = 0; t < d; t++) out[g * d + t] += p[g * n + j] * values[j * d + t];
    }
}
