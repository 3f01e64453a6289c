#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

/// Which instruction set the run-time dispatch picked: 2 = AVX2+FMA, 1 = portable C (also when the
/// environment sets GRPO_ISA=portable, to run the path of CPUs without AVX2+FMA).
/// (AVX2 reaches the same FMA peak as AVX-512 on Zen 4, which splits 512-bit ops in two.)
int ck_isa_level(void);

/// Forces a level (1 or 2, never above what the CPU has); for tests of the portable fallback.
void ck_set_isa_level(int level);

/// A register-resident FMA loop for measuring the fp32 peak of one core.
/// Runs `iterations` rounds of independent fused multiply-adds and returns the FLOPs it performed.
/// The result is folded into *sink so the compiler cannot drop the loop.
double ck_peak_fma(int64_t iterations, float *sink);

/// y[i] = exp(t[i]) with t[i] = scale * x[i] - shift, for i in 0..<n; returns the sum of y
/// (fp32 lanes, added into fp64 every block). If weighted is not NULL, *weighted = sum of y[i] * t[i].
/// y may alias x. Max relative error of exp about 2e-7 (a degree-6 polynomial after range reduction).
double ck_exp_sum(float *y, const float *x, float scale, float shift, int64_t n, double *weighted);

/// The maximum of x[0..<n] (n >= 1).
float ck_max(const float *x, int64_t n);

/// sum x[i] * y[i] over n floats in one fixed order on every machine: 32 lanes (lane i % 32 after
/// the last full block of 32 is the scalar tail's), each a chain of fused multiply-adds, reduced
/// pairwise. The AVX2 path and the portable one (fmaf per lane) give the same bits, unlike BLAS's
/// sdot, whose kernel (Haswell, SkylakeX, ...) is chosen by the CPU.
float ck_dot(const float *x, const float *y, int64_t n);

/// Asks glibc to keep freed large blocks in the heap for reuse instead of returning each one to
/// the kernel (no-op elsewhere).
void ck_keep_freed_memory(void);

/// dst[i] = the IEEE half src[i] as fp32 (F16C where available).
void ck_f16_to_f32(float *dst, const uint16_t *src, int64_t n);

/// dst[i] = fp32 src[i] rounded to the nearest IEEE half, ties to even (F16C where available).
void ck_f32_to_f16(uint16_t *dst, const float *src, int64_t n);

// ---------------------------------------------------------------- decode step (DecodeKernels.c)

/// From this many rows on, ck_linear_columns runs blocked (K in blocks, the next weight rows
/// prefetched): its products are then bound by FMAs, below it by reading the weights.
#define CK_LINEAR_BLOCKED_ROWS 16

/// y[i][j - n0] = dot(x_i, w_j) + bias[j] (or += that with accumulate) for rows i < m and weight
/// rows j in [n0, n1): x (m, k) with row stride ldx, w (n, k) row-major (nn.Linear's weight), y at
/// output column n0 with row stride ldy, bias (n) or NULL.
void ck_linear_columns(float *y, int64_t ldy, const float *x, int64_t ldx, const float *w, const float *bias,
                       int64_t m, int64_t n0, int64_t n1, int64_t k, int accumulate);

/// s (groups, n): s[g][j] = scale * dot(q_g, keys_j), for queries q (groups, d) and keys (n, d).
void ck_attention_scores(float *s, const float *q, const float *keys, int64_t groups, int64_t n, int64_t d, float scale);

/// out (groups, d): out[g] = sum_j p[g][j] * values_j, for weights p (groups, n) and values (n, d).
void ck_weighted_sum(float *out, const float *p, const float *values, int64_t groups, int64_t n, int64_t d);

// ---------------------------------------------------------------- GEMM (GEMMKernels.c)

/// C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C on the calling thread; row-major,
/// lda/ldb/ldc are the row strides as stored (op transposes when trans_a / trans_b is non-zero).
/// beta == 0 never reads C. Packed operands and an AVX2+FMA 6x16 micro-kernel (portable C below
/// AVX2). Returns 0, or -1 when the packing buffers could not be allocated (C is then unchanged).
int ck_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

// ---------------------------------------------------------------- process (Process.c)

/// Makes stdout line-buffered, so printed lines reach a pipe or a log as they happen (C's stdout
/// is block-buffered when it is not a terminal).
void ck_line_buffer_stdout(void);

/// Ignores SIGXFSZ, so a write past a file-size limit fails with EFBIG (an error naming the file)
/// instead of ending the process.
void ck_ignore_file_size_signal(void);

/// One glibc malloc arena for every thread (a no-op elsewhere): memory that a reward, sandbox or
/// pool thread frees is reused by the others instead of staying in that thread's arena (glibc
/// keeps up to 8 per core). The PPO bench's peak RSS: 255 -> 213 MB, its speed unchanged. Call
/// before starting threads.
void ck_single_malloc_arena(void);

// SIGINT and SIGTERM asked to stop a training run: the first is recorded (ck_stop_signal returns it),
// a second exits at once with 128 + its number. ck_restore_stop_signals puts the default actions back.
void ck_catch_stop_signals(void);
void ck_restore_stop_signals(void);
int ck_stop_signal(void);

/// Limits this process's address space to `bytes` (an allocation beyond it fails) and turns off
/// core dumps; 0 on success, -1 with errno set otherwise. For the fuzzer's child process.
int ck_limit_memory(int64_t bytes);

#endif
