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

// An R x C tile: rows i..<i+R of x against weight rows j..<j+C. With R <= 3 and C <= 4 the R*C
// accumulators, R x vectors and one w vector fit the 16 ymm registers; 7 loads per 12 FMAs keep
// the two FMA pipes the limit. Called with constants, so the loops unroll.
DK_AVX2 DK_INLINE void tile(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, int64_t k,
                            const float *bias, int accumulate, const int R, const int C) {
    __m256 acc[3][4];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) acc[i][j] = _mm256_setzero_ps();
    int64_t t = 0;
    for (; t + 8 <= k; t += 8) {
        __m256 xv[3];
        for (int i = 0; i < R; i++) xv[i] = _mm256_loadu_ps(x + i * ldx + t);
        for (int j = 0; j < C; j++) {
            __m256 wv = _mm256_loadu_ps(w + j * k + t);
            for (int i = 0; i < R; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
    }
    if (t < k) {
        __m256i mask = tail_mask(k - t);
        __m256 xv[3];
        for (int i = 0; i < R; i++) xv[i] = _mm256_maskload_ps(x + i * ldx + t, mask);
        for (int j = 0; j < C; j++) {
            __m256 wv = _mm256_maskload_ps(w + j * k + t, mask);
            for (int i = 0; i < R; i++) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
        }
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

// Weight rows in groups of 4 (one group stays in L1 while every row of x passes), rows of x in
// threes.
DK_AVX2 static void linear_avx2(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, const float *bias,
                                int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate) {
    int64_t j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *wj = w + j * k, *bj = bias ? bias + j : 0;
        float *yj = y + (j - n0);
        int64_t i = 0;
        for (; i + 3 <= m; i += 3) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, bj, accumulate, 3, 4);
        if (m - i == 2) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, bj, accumulate, 2, 4);
        if (m - i == 1) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, bj, accumulate, 1, 4);
    }
    for (; j < n1; j++) {
        const float *wj = w + j * k, *bj = bias ? bias + j : 0;
        float *yj = y + (j - n0);
        int64_t i = 0;
        for (; i + 3 <= m; i += 3) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, bj, accumulate, 3, 1);
        for (; i < m; i++) tile(yj + i * ldy, ldy, x + i * ldx, ldx, wj, k, bj, accumulate, 1, 1);
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
// s (G, n): s[g][j] = scale * dot(q_g, keys_j). Queries in pairs, keys in fours: 8 accumulators,
// 6 loads per 8 FMAs.
DK_AVX2 static void scores_avx2(float *s, const float *q, const float *keys, int64_t groups, int64_t n, int64_t d,
                                float scale) {
    const __m128 vscale = _mm_set1_ps(scale);
    for (int64_t g = 0; g < groups; g += 2) {
        const int pair = g + 1 < groups;
        const float *q0 = q + g * d, *q1 = pair ? q0 + d : q0;
        float *s0 = s + g * n, *s1 = pair ? s0 + n : s0;
        int64_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const float *k0 = keys + j * d;
            __m256 a[2][4];
            for (int h = 0; h < 2; h++)
                for (int c = 0; c < 4; c++) a[h][c] = _mm256_setzero_ps();
            int64_t t = 0;
            for (; t + 8 <= d; t += 8) {
                __m256 qv0 = _mm256_loadu_ps(q0 + t), qv1 = _mm256_loadu_ps(q1 + t);
                for (int c = 0; c < 4; c++) {
                    __m256 kv = _mm256_loadu_ps(k0 + c * d + t);
                    a[0][c] = _mm256_fmadd_ps(qv0, kv, a[0][c]);
                    a[1][c] = _mm256_fmadd_ps(qv1, kv, a[1][c]);
                }
            }
            if (t < d) {
                __m256i mask = tail_mask(d - t);
                __m256 qv0 = _mm256_maskload_ps(q0 + t, mask), qv1 = _mm256_maskload_ps(q1 + t, mask);
                for (int c = 0; c < 4; c++) {
                    __m256 kv = _mm256_maskload_ps(k0 + c * d + t, mask);
                    a[0][c] = _mm256_fmadd_ps(qv0, kv, a[0][c]);
                    a[1][c] = _mm256_fmadd_ps(qv1, kv, a[1][c]);
                }
            }
            _mm_storeu_ps(s0 + j, _mm_mul_ps(vscale, reduce4(a[0][0], a[0][1], a[0][2], a[0][3])));
            if (pair) _mm_storeu_ps(s1 + j, _mm_mul_ps(vscale, reduce4(a[1][0], a[1][1], a[1][2], a[1][3])));
        }
        for (; j < n; j++) {
            const float *kj = keys + j * d;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0;
            int64_t t = 0;
            for (; t + 8 <= d; t += 8) {
                __m256 kv = _mm256_loadu_ps(kj + t);
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q0 + t), kv, a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q1 + t), kv, a1);
            }
            if (t < d) {
                __m256i mask = tail_mask(d - t);
                __m256 kv = _mm256_maskload_ps(kj + t, mask);
                a0 = _mm256_fmadd_ps(_mm256_maskload_ps(q0 + t, mask), kv, a0);
                a1 = _mm256_fmadd_ps(_mm256_maskload_ps(q1 + t, mask), kv, a1);
            }
            s0[j] = scale * reduce1(a0);
            if (pair) s1[j] = scale * reduce1(a1);
        }
    }
}

// out (G, d): out[g] = sum_j p[g][j] values_j. Queries in pairs, d in blocks of 32 lanes: 8
// independent FMA chains over j, 6 loads per 8 FMAs.
DK_AVX2 static void weighted_sum_avx2(float *out, const float *p, const float *values, int64_t groups, int64_t n,
                                      int64_t d) {
    for (int64_t g = 0; g < groups; g += 2) {
        const int pair = g + 1 < groups;
        const float *p0 = p + g * n, *p1 = pair ? p0 + n : p0;
        float *o0 = out + g * d, *o1 = pair ? o0 + d : o0;
        for (int64_t c = 0; c < d; c += 32) {
            int64_t width = d - c < 32 ? d - c : 32;
            __m256i mask[4];
            __m256 a0[4], a1[4];
            for (int b = 0; b < 4; b++) {
                int64_t lanes = width - 8 * b;
                mask[b] = tail_mask(lanes < 0 ? 0 : (lanes > 8 ? 8 : lanes));
                a0[b] = _mm256_setzero_ps();
                a1[b] = _mm256_setzero_ps();
            }
            if (width == 32) {
                for (int64_t j = 0; j < n; j++) {
                    __m256 w0 = _mm256_set1_ps(p0[j]), w1 = _mm256_set1_ps(p1[j]);
                    const float *v = values + j * d + c;
                    for (int b = 0; b < 4; b++) {
                        __m256 vv = _mm256_loadu_ps(v + 8 * b);
                        a0[b] = _mm256_fmadd_ps(w0, vv, a0[b]);
                        a1[b] = _mm256_fmadd_ps(w1, vv, a1[b]);
                    }
                }
            } else {
                for (int64_t j = 0; j < n; j++) {
                    __m256 w0 = _mm256_set1_ps(p0[j]), w1 = _mm256_set1_ps(p1[j]);
                    const float *v = values + j * d + c;
                    for (int b = 0; b < 4; b++) {
                        __m256 vv = _mm256_maskload_ps(v + 8 * b, mask[b]);
                        a0[b] = _mm256_fmadd_ps(w0, vv, a0[b]);
                        a1[b] = _mm256_fmadd_ps(w1, vv, a1[b]);
                    }
                }
            }
            for (int b = 0; b < 4; b++) {
                _mm256_maskstore_ps(o0 + c + 8 * b, mask[b], a0[b]);
                if (pair) _mm256_maskstore_ps(o1 + c + 8 * b, mask[b], a1[b]);
            }
        }
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
