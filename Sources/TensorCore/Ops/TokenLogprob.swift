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
        checkShapes(targets.count == rows, "tokenLogprob", "\(targets.count) targets for logits \(logits.shape)")
        checkShapes(temperature > 0, "tokenLogprob", "temperature must be > 0, got \(temperature)")
        if let bad = targets.first(where: { $0 < 0 || Int($0) >= vocab }) {
            preconditionFailure("tokenLogprob: target \(bad) outside the vocabulary of \(vocab)")
        }
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
