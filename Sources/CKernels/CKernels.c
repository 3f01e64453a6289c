// Kernels that need AVX-512 or AVX2+FMA, compiled per function with target attributes so the
// package itself builds for baseline x86-64; the variant is chosen once at run time.
#include "CKernels.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_X86 1
#include <immintrin.h>
#define CK_AVX512 __attribute__((target("avx512f,avx512vl,fma,avx2")))
#define CK_AVX2 __attribute__((target("avx2,fma")))
#else
#define CK_X86 0
#endif

static int ck_level = -1;

int ck_isa_level(void) {
    if (ck_level < 0) {
#if CK_X86
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) ck_level = 3;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ck_level = 2;
        else ck_level = 1;
#else
        ck_level = 1;
#endif
    }
    return ck_level;
}

// ---------------------------------------------------------------- peak FMA
// 12 independent accumulators hide the 4-cycle FMA latency on two FMA pipes.
#define CK_PEAK_BODY(VEC, FMA, SET1, ADD, STORE, LANES)                                  \
    VEC a0 = SET1(1.0f), a1 = SET1(1.1f), a2 = SET1(1.2f), a3 = SET1(1.3f);             \
    VEC a4 = SET1(1.4f), a5 = SET1(1.5f), a6 = SET1(1.6f), a7 = SET1(1.7f);             \
    VEC a8 = SET1(1.8f), a9 = SET1(1.9f), a10 = SET1(2.0f), a11 = SET1(2.1f);           \
    const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                      \
    for (int64_t i = 0; i < iterations; i++) {                                           \
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);  \
        a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);  \
        a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c); \
    }                                                                                    \
    VEC s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));          \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                         \
    float lanes[LANES];                                                                  \
    STORE(lanes, s);                                                                     \
    float total = 0;                                                                     \
    for (int l = 0; l < LANES; l++) total += lanes[l];                                   \
    *sink += total;                                                                      \
    return (double)iterations * 12.0 * LANES * 2.0;

#if CK_X86
CK_AVX512 static double peak_avx512(int64_t iterations, float *sink) {
    CK_PEAK_BODY(__m512, _mm512_fmadd_ps, _mm512_set1_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}
CK_AVX2 static double peak_avx2(int64_t iterations, float *sink) {
    CK_PEAK_BODY(__m256, _mm256_fmadd_ps, _mm256_set1_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
#endif

static double peak_portable(int64_t iterations, float *sink) {
    float a[8] = {1, 1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f, 1.7f};
    for (int64_t i = 0; i < iterations; i++)
        for (int l = 0; l < 8; l++) a[l] = a[l] * 0.999999f + 1e-7f;
    float total = 0;
    for (int l = 0; l < 8; l++) total += a[l];
    *sink += total;
    return (double)iterations * 8.0 * 2.0;
}

double ck_peak_fma(int64_t iterations, float *sink) {
#if CK_X86
    switch (ck_isa_level()) {
    case 3: return peak_avx512(iterations, sink);
    case 2: return peak_avx2(iterations, sink);
    default: break;
    }
#endif
    return peak_portable(iterations, sink);
}

// ---------------------------------------------------------------- exp
// exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 in [-ln2/2, ln2/2]; exp(r) by a
// degree-6 Taylor/minimax polynomial (Cephes coefficients). Inputs below -87.3 give 0.
#define CK_EXP_LO (-87.33654f)
#define CK_EXP_HI (88.37626f)

static inline float exp_scalar(float x) {
    if (x < CK_EXP_LO) return 0.0f;
    if (x > CK_EXP_HI) x = CK_EXP_HI;
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#if CK_X86
CK_AVX512 static inline __m512 exp_avx512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(CK_EXP_LO);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), _mm512_set1_ps(CK_EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512 result = _mm512_scalef_ps(p, n);
    return _mm512_maskz_mov_ps(~under, result);
}

CK_AVX512 static double exp_sum_avx512(float *y, const float *x, float scale, float shift, int64_t n) {
    const __m512 vs = _mm512_set1_ps(scale), vsh = _mm512_set1_ps(shift);
    __m512 acc = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp_avx512(_mm512_fmsub_ps(_mm512_loadu_ps(x + i), vs, vsh));
        _mm512_storeu_ps(y + i, e);
        acc = _mm512_add_ps(acc, e);
    }
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        __m512 e = exp_avx512(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, x + i), vs, vsh));
        e = _mm512_maskz_mov_ps(k, e);
        _mm512_mask_storeu_ps(y + i, k, e);
        acc = _mm512_add_ps(acc, e);
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, acc);
    double total = 0;
    for (int l = 0; l < 16; l++) total += lanes[l];
    return total;
}

CK_AVX512 static float max_avx512(const float *x, int64_t n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    float best = _mm512_reduce_max_ps(m);
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}
#endif

static double exp_sum_portable(float *y, const float *x, float scale, float shift, int64_t n) {
    double total = 0;
    for (int64_t i = 0; i < n; i++) {
        float e = exp_scalar(x[i] * scale - shift);
        y[i] = e;
        total += e;
    }
    return total;
}

double ck_exp_sum(float *y, const float *x, float scale, float shift, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 3) return exp_sum_avx512(y, x, scale, shift, n);
#endif
    return exp_sum_portable(y, x, scale, shift, n);
}

float ck_max(const float *x, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 3) return max_avx512(x, n);
#endif
    float best = x[0];
    for (int64_t i = 1; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}
