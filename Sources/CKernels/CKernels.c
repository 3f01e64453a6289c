// Kernels that need AVX2+FMA, compiled per function with target attributes so the package itself
// builds for baseline x86-64; the variant is chosen once at run time, with a portable fallback.
#include "CKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_X86 1
#include <immintrin.h>
#define CK_AVX2 __attribute__((target("avx2,fma")))
#else
#define CK_X86 0
#endif

static int ck_level = -1;

int ck_isa_level(void) {
    if (ck_level < 0) {
#if CK_X86
        __builtin_cpu_init();
        ck_level = (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 2 : 1;
        const char *forced = getenv("GRPO_ISA");  // "portable": the path of CPUs without AVX2+FMA
        if (forced && strcmp(forced, "portable") == 0) ck_level = 1;
#else
        ck_level = 1;
#endif
    }
    return ck_level;
}

void ck_set_isa_level(int level) {
    ck_level = -1;
    int best = ck_isa_level();
    ck_level = level < best ? (level < 1 ? 1 : level) : best;
}

// ---------------------------------------------------------------- peak FMA
#if CK_X86
// 12 independent accumulators hide the FMA latency on two FMA pipes.
CK_AVX2 static double peak_avx2(int64_t iterations, float *sink) {
    __m256 a[12];
    for (int j = 0; j < 12; j++) a[j] = _mm256_set1_ps(1.0f + 0.1f * (float)j);
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int64_t i = 0; i < iterations; i++) {
        a[0] = _mm256_fmadd_ps(a[0], m, c); a[1] = _mm256_fmadd_ps(a[1], m, c);
        a[2] = _mm256_fmadd_ps(a[2], m, c); a[3] = _mm256_fmadd_ps(a[3], m, c);
        a[4] = _mm256_fmadd_ps(a[4], m, c); a[5] = _mm256_fmadd_ps(a[5], m, c);
        a[6] = _mm256_fmadd_ps(a[6], m, c); a[7] = _mm256_fmadd_ps(a[7], m, c);
        a[8] = _mm256_fmadd_ps(a[8], m, c); a[9] = _mm256_fmadd_ps(a[9], m, c);
        a[10] = _mm256_fmadd_ps(a[10], m, c); a[11] = _mm256_fmadd_ps(a[11], m, c);
    }
    __m256 s = a[0];
    for (int j = 1; j < 12; j++) s = _mm256_add_ps(s, a[j]);
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    float total = 0;
    for (int l = 0; l < 8; l++) total += lanes[l];
    *sink += total;
    return (double)iterations * 12.0 * 8.0 * 2.0;
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
    if (ck_isa_level() == 2) return peak_avx2(iterations, sink);
#endif
    return peak_portable(iterations, sink);
}

// ---------------------------------------------------------------- exp
// exp(t) = 2^n * exp(r), n = round(t / ln2), r = t - n ln2 in [-ln2/2, ln2/2] (ln2 split in two
// parts); exp(r) by the Cephes degree-6 polynomial. t below -87.3 gives 0; t is clamped at 88.3.
#define CK_EXP_LO (-87.33654f)
#define CK_EXP_HI (88.3f)
#define CK_BLOCK 512

static inline float exp_scalar(float t) {
    if (t < CK_EXP_LO) return 0.0f;
    if (t > CK_EXP_HI) t = CK_EXP_HI;
    float n = nearbyintf(t * 1.44269504088896341f);
    float r = t - n * 0.693359375f;
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
CK_AVX2 static inline __m256 exp_avx2(__m256 t) {
    const __m256 lo = _mm256_set1_ps(CK_EXP_LO);
    __m256 under = _mm256_cmp_ps(t, lo, _CMP_LT_OQ);
    t = _mm256_min_ps(_mm256_max_ps(t, lo), _mm256_set1_ps(CK_EXP_HI));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n from the exponent bits; n is in [-126, 127] after the clamp.
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(bits)));
}

static inline double hsum_avx2(__m256 v) CK_AVX2;
CK_AVX2 static inline double hsum_avx2(__m256 v) {
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    double total = 0;
    for (int l = 0; l < 8; l++) total += lanes[l];
    return total;
}

CK_AVX2 static double exp_sum_avx2(float *y, const float *x, float scale, float shift, int64_t n, double *weighted) {
    const __m256 vs = _mm256_set1_ps(scale), vsh = _mm256_set1_ps(shift);
    double total = 0, wtotal = 0;
    int64_t i = 0;
    while (i + 8 <= n) {
        __m256 acc = _mm256_setzero_ps(), wacc = _mm256_setzero_ps();
        int64_t end = i + CK_BLOCK < n ? i + CK_BLOCK : n;
        for (; i + 8 <= end; i += 8) {
            __m256 t = _mm256_fmsub_ps(_mm256_loadu_ps(x + i), vs, vsh);
            __m256 e = exp_avx2(t);
            _mm256_storeu_ps(y + i, e);
            acc = _mm256_add_ps(acc, e);
            wacc = _mm256_fmadd_ps(e, t, wacc);
        }
        total += hsum_avx2(acc);
        wtotal += hsum_avx2(wacc);
    }
    for (; i < n; i++) {
        float t = __builtin_fmaf(x[i], scale, -shift);
        float e = exp_scalar(t);
        y[i] = e;
        total += e;
        wtotal += (double)e * t;
    }
    if (weighted) *weighted = wtotal;
    return total;
}

CK_AVX2 static float max_avx2(const float *x, int64_t n) {
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float lanes[8];
    _mm256_storeu_ps(lanes, m);
    float best = lanes[0];
    for (int l = 1; l < 8; l++) best = lanes[l] > best ? lanes[l] : best;
    for (; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}
#endif

// ---------------------------------------------------------------- dot, the same bits everywhere
// Lanes l = 0..31: acc[l] = fma(x[32b + l], y[32b + l], acc[l]) over full blocks b; then
// acc[l] += acc[l + 16], acc[l] += acc[l + 8], acc[l] += acc[l + 4], acc[l] += acc[l + 2],
// acc[l] += acc[l + 1] (pairwise, in that order), then the tail by fmaf into acc[0].
static float dot_finish(float acc[32], const float *x, const float *y, int64_t i, int64_t n) {
    for (int width = 16; width >= 1; width /= 2)
        for (int l = 0; l < width; l++) acc[l] += acc[l + width];
    float total = acc[0];
    for (; i < n; i++) total = fmaf(x[i], y[i], total);
    return total;
}

#if CK_X86
CK_AVX2 static float dot_avx2(const float *x, const float *y, int64_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    float acc[32];
    _mm256_storeu_ps(acc, a0);
    _mm256_storeu_ps(acc + 8, a1);
    _mm256_storeu_ps(acc + 16, a2);
    _mm256_storeu_ps(acc + 24, a3);
    return dot_finish(acc, x, y, i, n);
}
#endif

float ck_dot(const float *x, const float *y, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 2) return dot_avx2(x, y, n);
#endif
    float acc[32] = {0};
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 32; l++) acc[l] = fmaf(x[i + l], y[i + l], acc[l]);
    return dot_finish(acc, x, y, i, n);
}

static double exp_sum_portable(float *y, const float *x, float scale, float shift, int64_t n, double *weighted) {
    double total = 0, wtotal = 0;
    for (int64_t i = 0; i < n; i++) {
        float t = fmaf(x[i], scale, -shift);
        float e = exp_scalar(t);
        y[i] = e;
        total += e;
        wtotal += (double)e * t;
    }
    if (weighted) *weighted = wtotal;
    return total;
}

double ck_exp_sum(float *y, const float *x, float scale, float shift, int64_t n, double *weighted) {
#if CK_X86
    if (ck_isa_level() == 2) return exp_sum_avx2(y, x, scale, shift, n, weighted);
#endif
    return exp_sum_portable(y, x, scale, shift, n, weighted);
}

float ck_max(const float *x, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 2) return max_avx2(x, n);
#endif
    float best = x[0];
    for (int64_t i = 1; i < n; i++) best = x[i] > best ? x[i] : best;
    return best;
}

// ---------------------------------------------------------------- half precision
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: renormalise
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mant = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)exp << 10) | (mant >> 13), rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

#if CK_X86
__attribute__((target("f16c,avx"))) static void f16_to_f32_f16c(float *dst, const uint16_t *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = half_to_float(src[i]);
}
__attribute__((target("f16c,avx"))) static void f32_to_f16_f16c(uint16_t *dst, const float *src, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = float_to_half(src[i]);
}
#endif

void ck_f16_to_f32(float *dst, const uint16_t *src, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 2 && __builtin_cpu_supports("f16c")) { f16_to_f32_f16c(dst, src, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = half_to_float(src[i]);
}

void ck_f32_to_f16(uint16_t *dst, const float *src, int64_t n) {
#if CK_X86
    if (ck_isa_level() == 2 && __builtin_cpu_supports("f16c")) { f32_to_f16_f16c(dst, src, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

void ck_keep_freed_memory(void) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
