#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Legend: N rows (tokens), V vocabulary. s = logits / temperature.

/// The fused op the trainers live on: log-probability of each row's target token and the entropy
/// of each row's distribution, at a temperature, without keeping an (N, V) probability tensor.
///
/// Each row is processed with one V-float scratch buffer per thread; only logZ (N) and the
/// entropy (N) are kept for backward, which recomputes the probabilities.
///
///     logprob_n = s_{n,t} - logZ_n,   entropy_n = logZ_n - sum_j p_j s_j
///     d z_j = (1/temp) [ g_lp (delta_jt - p_j) - g_H p_j (log p_j + H) ]
enum TokenLogprobKernel {
    /// logprob (N), entropy (N), logZ (N) <- logits (N, V), targets (N)
    static func forward(_ logprob: UnsafeMutablePointer<Float>, _ entropy: UnsafeMutablePointer<Float>,
                        _ logZ: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>,
                        _ targets: UnsafePointer<Int32>, rows: Int, vocab: Int, temperature: Float) {
        let inv = 1 / temperature
        ThreadPool.shared.parallelFor(rows, costPerItem: 12 * vocab) { range in
            let scratch = Storage(count: vocab)
            for r in range {
                let z = logits + r * vocab
                // e_j = exp(s_j - m); H = log sum e - sum_j e_j (s_j - m) / sum e (no cancellation
                // against logZ, which can be large).
                let m = inv * FastMath.max(z, count: vocab)
                let (total, weighted) = FastMath.expSumWeighted(scratch.pointer, z, scale: inv, shift: m, count: vocab)
                let logSum = log(total)
                let lz = m + Float(logSum)
                logZ[r] = lz
                entropy[r] = Float(logSum - weighted / total)
                logprob[r] = inv * z[Int(targets[r])] - lz
            }
        }
    }

    /// dlogits (N, V) += <- dLogprob (N) or nil, dEntropy (N) or nil, and the forward's values.
    static func backward(_ dlogits: UnsafeMutablePointer<Float>, dLogprob: UnsafePointer<Float>?,
                         dEntropy: UnsafePointer<Float>?, _ logits: UnsafePointer<Float>,
                         _ targets: UnsafePointer<Int32>, _ logZ: UnsafePointer<Float>,
                         _ entropy: UnsafePointer<Float>, rows: Int, vocab: Int, temperature: Float) {
        let inv = 1 / temperature
        ThreadPool.shared.parallelFor(rows, costPerItem: 12 * vocab) { range in
            let scratch = Storage(count: vocab)
            let p = scratch.pointer
            for r in range {
                let gLp = dLogprob?[r] ?? 0, gH = dEntropy?[r] ?? 0
                if gLp == 0 && gH == 0 { continue }
                let z = logits + r * vocab, dz = dlogits + r * vocab
                _ = FastMath.expSum(p, z, scale: inv, shift: logZ[r], count: vocab)
                // dz_j += p_j (c1 + c2 z_j), from -inv p_j (gLp + gH (s_j - logZ + H))
                let c1 = -inv * (gLp + gH * (entropy[r] - logZ[r]))
                let c2 = -inv * inv * gH
                for j in 0..<vocab { dz[j] += p[j] * (c1 + c2 * z[j]) }
                dz[Int(targets[r])] += inv * gLp
            }
            withExtendedLifetime(scratch) {}
        }
    }
}

extension Tape {
    /// Log-probability of each target under softmax(logits / temperature), and each row's entropy.
    ///
    /// - logits: (..., V); targets: one id in 0..<V per row.
    /// - returns: logprob and entropy, each shaped like logits without its last dimension.
    public func tokenLogprob(logits: Tensor, targets: [Int32], temperature: Float = 1)
        -> (logprob: Tensor, entropy: Tensor) {
        let (rows, vocab) = (logits.rows, logits.lastDim)
        checkTokenLogprob(targets, rows: rows, of: "logits \(logits.shape)", vocab: vocab, temperature: temperature)
        let rowShape = Array(logits.shape.dropLast())
        let logprob = output(rowShape, [logits]), entropy = output(rowShape, [logits])
        let logZ = Storage(count: rows)
        targets.withUnsafeBufferPointer { t in
            TokenLogprobKernel.forward(logprob.data, entropy.data, logZ.pointer, logits.data, t.baseAddress!,
                                       rows: rows, vocab: vocab, temperature: temperature)
        }
        record([logprob, entropy]) { grads in
            guard logits.requiresGrad else { return }
            targets.withUnsafeBufferPointer { t in
                TokenLogprobKernel.backward(logits.ensureGrad().pointer, dLogprob: grads[0].map { UnsafePointer($0.pointer) },
                                            dEntropy: grads[1].map { UnsafePointer($0.pointer) }, logits.data,
                                            t.baseAddress!, logZ.pointer, entropy.data, rows: rows, vocab: vocab,
                                            temperature: temperature)
            }
        }
        return (logprob, entropy)
    }
}

extension Tape {
    /// Checks both forms' arguments: one target in 0..<V per row, a positive temperature (targets
    /// come from the tokenizer, so a bad one is a programming error).
    func checkTokenLogprob(_ targets: [Int32], rows: Int, of what: @autoclosure () -> String, vocab: Int, temperature: Float) {
        checkShapes(targets.count == rows, "tokenLogprob", "\(targets.count) targets for \(what())")
        checkShapes(temperature > 0, "tokenLogprob", "temperature must be > 0, got \(temperature)")
        if let bad = targets.first(where: { $0 < 0 || Int($0) >= vocab }) {
            preconditionFailure("tokenLogprob: target \(bad) outside the vocabulary of \(vocab)")
        }
    }
}

// Legend (the LM-head form): R rows, C hidden width, V vocabulary, K rows of logits per chunk.

extension Tape {
    /// Floats of logits alive at once in `tokenLogprob(hidden:weight:...)`: 32 MB, 170 rows at
    /// SmolLM2's 49,152-token vocabulary.
    static let logitChunkFloats = 1 << 23

    /// `tokenLogprob(logits: linear(hidden, weight), ...)` without ever holding the (R, V) logits or
    /// their gradient: rows pass through the LM head K at a time, one (K, V) chunk alive.
    ///
    /// Backward, when `weight` takes a gradient (full fine-tuning) or the entropy is differentiable,
    /// recomputes each chunk's logits but the last (one more LM-head product, none when one chunk
    /// holds every row) and runs the composition's backward on it. When neither (a frozen head, as
    /// with LoRA), the forward keeps each row's expected head row sum_j p_j W_j (R, C) and backward
    /// needs no product:
    ///
    ///     d hidden_r = (g_r / temp) (W_{t_r} - sum_j p_j W_j)
    ///
    /// - hidden: (R, C); weight: (V, C); targets: one id in 0..<V per row.
    /// - entropyGradient: whether the entropy is differentiable (the trainers only log it).
    /// - chunkRows: K, by default as many rows as fit `logitChunkFloats`.
    /// - returns: logprob (R) and entropy (R), each shaped like hidden without its last dimension.
    public func tokenLogprob(hidden: Tensor, weight: Tensor, targets: [Int32], temperature: Float = 1,
                             entropyGradient: Bool = false, chunkRows: Int? = nil) -> (logprob: Tensor, entropy: Tensor) {
        checkLinear(hidden, weight, nil)
        let (rows, width, vocab) = (hidden.rows, hidden.lastDim, weight.shape[0])
        checkTokenLogprob(targets, rows: rows, of: "hidden \(hidden.shape)", vocab: vocab, temperature: temperature)
        let chunk = max(1, min(rows, chunkRows ?? Self.logitChunkFloats / max(vocab, 1)))
        let rowShape = Array(hidden.shape.dropLast())
        let logprob = output(rowShape, [hidden, weight])
        let entropy = entropyGradient ? output(rowShape, [hidden, weight])
                                      : Tensor(shape: rowShape, storage: Storage(uninitializedCount: rows))
        let logZ = Storage(count: rows)
        let frozenHead = logprob.requiresGrad && !weight.requiresGrad && !entropyGradient
        let expected = frozenHead ? Storage(uninitializedCount: rows * width) : nil  // (R, C): sum_j p_j W_j
        let logits = Storage(uninitializedCount: chunk * vocab)  // (K, V)
        targets.withUnsafeBufferPointer { t in
            for start in stride(from: 0, to: rows, by: chunk) {
                let n = min(chunk, rows - start)
                LinearKernel.forward(logits.pointer, hidden.data + start * width, weight.data, nil, rows: n, in: width, out: vocab)
                TokenLogprobKernel.forward(logprob.data + start, entropy.data + start, logZ.pointer + start, logits.pointer,
                                           t.baseAddress! + start, rows: n, vocab: vocab, temperature: temperature)
                guard let expected else { continue }
                // p (K, V) in place of the logits, then sum_j p_j W_j = p W (K, C).
                for r in 0..<n {
                    let z = logits.pointer + r * vocab
                    _ = FastMath.expSum(z, z, scale: 1 / temperature, shift: logZ.pointer[start + r], count: vocab)
                }
                GEMM.sgemm(transA: false, transB: false, m: n, n: width, k: vocab, a: logits.pointer, lda: vocab,
                           b: weight.data, ldb: width, c: expected.pointer + start * width, ldc: width)
            }
        }
        if let expected {
            record(logprob) { dLogprob in
                // d hidden_r += (g_r / temp) (W_{t_r} - expected_r)
                let dh = hidden.ensureGrad().pointer, inv = 1 / temperature
                for r in 0..<rows {
                    let g = inv * dLogprob.pointer[r]
                    if g == 0 { continue }
                    let w = weight.data + Int(targets[r]) * width, e = expected.pointer + r * width, d = dh + r * width
                    for c in 0..<width { d[c] += g * (w[c] - e[c]) }
                }
            }
            return (logprob, entropy)
        }
        record([logprob, entropy]) { grads in
            let dLogits = Storage(count: chunk * vocab)  // (K, V)
            let dh = Tape.gradient(hidden), dw = Tape.gradient(weight)
            // Last chunk first: its logits are still in the buffer (all of them when one chunk holds every row).
            let last = (rows - 1) / chunk * chunk
            targets.withUnsafeBufferPointer { t in
                for start in stride(from: last, through: 0, by: -chunk) {
                    let n = min(chunk, rows - start)
                    if start != last {
                        LinearKernel.forward(logits.pointer, hidden.data + start * width, weight.data, nil, rows: n, in: width, out: vocab)
                        dLogits.pointer.update(repeating: 0, count: n * vocab)
                    }
                    TokenLogprobKernel.backward(dLogits.pointer, dLogprob: grads[0].map { UnsafePointer($0.pointer + start) },
                                                dEntropy: grads[1].map { UnsafePointer($0.pointer + start) }, logits.pointer,
                                                t.baseAddress! + start, logZ.pointer + start, entropy.data + start,
                                                rows: n, vocab: vocab, temperature: temperature)
                    LinearKernel.backward(dx: dh.map { $0 + start * width }, dw: dw, db: nil, dLogits.pointer,
                                          hidden.data + start * width, weight.data, rows: n, in: width, out: vocab)
                }
            }
        }
        return (logprob, entropy)
    }
}
