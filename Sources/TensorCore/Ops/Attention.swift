// Legend: B batch, T time, H query heads, Hkv key/value heads (H % Hkv == 0), D head dim,
// G = H / Hkv query heads per key/value head.

/// Causal grouped-query self-attention, one (batch, head) at a time through GEMM.
///
/// Query head h reads key/value head h / G. Key j is visible to query i when j <= i and
/// keyMask[b, j] is 1, or is a segment id s >= 2 equal to keyMask[b, i]; 0 marks padding. With 0/1
/// masks this is the usual key-padding mask; segment ids pack several sequences that share a
/// prefix (mask 1) into one row, each seeing the prefix and itself only. scores = scale * q.k +
/// bias; probabilities are a softmax over the visible keys; a query with no visible key (a padded
/// position) gets probabilities 0 and output 0.
public enum AttentionKernel {
    struct Sizes {
        let b: Int, t: Int, h: Int, hkv: Int, d: Int
        var group: Int { h / hkv }
        var qRow: Int { h * d }
        var kvRow: Int { hkv * d }
    }

    /// out (B, T, H, D) <- q (B, T, H, D), k, v (B, T, Hkv, D), keyMask (B*T) or nil, bias (B, H, T, T) or nil.
    static func forward(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                        _ v: UnsafePointer<Float>, keyMask: [Int32]?, bias: Tensor?, scale: Float, _ s: Sizes) {
        withMask(keyMask) { mask in
            forward(out, q, k, v, keyMask: mask, bias: bias.map { UnsafePointer($0.data) }, scale: scale, s)
        }
    }

    /// Runs `body` with a pointer to the mask's values, or nil.
    static func withMask<R>(_ keyMask: [Int32]?, _ body: (UnsafePointer<Int32>?) -> R) -> R {
        guard let keyMask else { return body(nil) }
        return keyMask.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    static func forward(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                        _ v: UnsafePointer<Float>, keyMask: UnsafePointer<Int32>?, bias: UnsafePointer<Float>?,
                        scale: Float, _ s: Sizes) {
        let (t, d) = (s.t, s.d)
        ThreadPool.shared.parallelFor(s.b * s.h, costPerItem: 4 * t * t * d) { tasks in
            let p = Storage(uninitializedCount: t * t)
            for task in tasks {
                let (b, h) = (task / s.h, task % s.h)
                probabilities(p.pointer, b: b, h: h, q, k, keyMask: keyMask, bias: bias, scale: scale, s)
                weightedValues(out, p.pointer, b: b, h: h, v, s)
            }
        }
    }

    /// O (T, D) = P V of batch row b, head h, into out (B, T, H, D).
    static func weightedValues(_ out: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, b: Int, h: Int,
                               _ v: UnsafePointer<Float>, _ s: Sizes) {
        let (t, d) = (s.t, s.d)
        GEMM.sgemm(transA: false, transB: false, m: t, n: d, k: t, a: p, lda: t, b: v + b * t * s.kvRow + (h / s.group) * d,
                   ldb: s.kvRow, c: out + b * t * s.qRow + h * d, ldc: s.qRow)
    }

    /// P (T, T) of batch row b, head h: the softmax of scale * Q K^T (+ bias) over the visible keys.
    /// Forward and backward both compute it here (the backward recomputes it rather than keep a
    /// (B, H, T, T) tensor), so the two agree bitwise. Always called from pool tasks or for
    /// products too small to split, so `GEMM` computes it the same way each time.
    static func probabilities(_ p: UnsafeMutablePointer<Float>, b: Int, h: Int, _ q: UnsafePointer<Float>,
                              _ k: UnsafePointer<Float>, keyMask: UnsafePointer<Int32>?, bias: UnsafePointer<Float>?,
                              scale: Float, _ s: Sizes) {
        let (t, d) = (s.t, s.d)
        let qbh = q + b * t * s.qRow + h * d, kbh = k + b * t * s.kvRow + (h / s.group) * d
        GEMM.sgemm(transA: false, transB: true, m: t, n: t, k: d, alpha: scale,
                   a: qbh, lda: s.qRow, b: kbh, ldb: s.kvRow, c: p, ldc: t)
        if let bias { Kernels.accumulate(p, bias + (b * s.h + h) * t * t, count: t * t) }
        for i in 0..<t {
            softmaxVisible(p + i * t, row: i, t: t, mask: keyMask.map { $0 + b * t })
        }
    }

    /// Softmax of row i over the keys 0...i that the mask allows (1, or the segment id of mask[i]);
    /// every other entry becomes 0. With `lastAlwaysVisible`, key i is visible whatever the mask
    /// says (a decode step's own key).
    @inline(__always)
    public static func softmaxVisible(_ row: UnsafeMutablePointer<Float>, row i: Int, t: Int, mask: UnsafePointer<Int32>?,
                                      lastAlwaysVisible: Bool = false) {
        if let mask {
            let own = mask[i]
            for j in 0..<(lastAlwaysVisible ? i : i + 1) {
                let m = mask[j]
                if m == 0 || (m > 1 && m != own) { row[j] = -Float.infinity }
            }
        }
        for j in (i + 1)..<max(i + 1, t) { row[j] = 0 }
        let m = FastMath.max(row, count: i + 1)
        if m == -Float.infinity {
            for j in 0...i { row[j] = 0 }
            return
        }
        let total = FastMath.expSum(row, row, shift: m, count: i + 1)
        let inv = Float(1 / total)
        for j in 0...i { row[j] *= inv }
    }

    /// dq (B, T, H, D) +=, dk, dv (B, T, Hkv, D) +=, dbias (B, H, T, T) += <- dout (B, T, H, D) and the
    /// forward's inputs. One task per (batch, kv head), so the G query heads that share dk and dv
    /// accumulate into them in order. With `out`, it also writes the forward's output (B, T, H, D)
    /// from the probabilities it recomputes anyway (for fused ops that did not keep it).
    ///
    /// dP = dO V^T;  dS = P * (dP - rowsum(P * dP));  dQ += scale dS K;  dK += scale dS^T Q;  dV += P^T dO.
    static func backward(dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?,
                         dv: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                         _ v: UnsafePointer<Float>, keyMask: [Int32]?, bias: Tensor?, scale: Float, _ s: Sizes,
                         out: UnsafeMutablePointer<Float>? = nil) {
        withMask(keyMask) { mask in
            backward(dq: dq, dk: dk, dv: dv, dbias: dbias, dout, q, k, v, keyMask: mask,
                     bias: bias.map { UnsafePointer($0.data) }, scale: scale, s, out: out)
        }
    }

    static func backward(dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?,
                         dv: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                         _ v: UnsafePointer<Float>, keyMask: UnsafePointer<Int32>?, bias: UnsafePointer<Float>?,
                         scale: Float, _ s: Sizes, out: UnsafeMutablePointer<Float>?) {
        let (t, d) = (s.t, s.d)
        ThreadPool.shared.parallelFor(s.b * s.hkv, costPerItem: 12 * s.group * t * t * d) { tasks in
            // Per thread: P of one head (recomputed, as the forward computed it) and dS.
            let probs = Storage(uninitializedCount: t * t), ds = Storage(uninitializedCount: t * t)
            for task in tasks {
                let (b, kvh) = (task / s.hkv, task % s.hkv)
                let kvOffset = b * t * s.kvRow + kvh * d
                for h in (kvh * s.group)..<((kvh + 1) * s.group) {
                    let qOffset = b * t * s.qRow + h * d
                    let p = probs.pointer
                    probabilities(p, b: b, h: h, q, k, keyMask: keyMask, bias: bias, scale: scale, s)
                    if let out { weightedValues(out, p, b: b, h: h, v, s) }
                    let dob = dout + qOffset
                    if let dv {
                        GEMM.sgemm(transA: true, transB: false, m: t, n: d, k: t, a: p, lda: t, b: dob, ldb: s.qRow,
                                   beta: 1, c: dv + kvOffset, ldc: s.kvRow)
                    }
                    if dq == nil && dk == nil && dbias == nil { continue }
                    // dP (T, T) = dO V^T, then dS in place.
                    GEMM.sgemm(transA: false, transB: true, m: t, n: t, k: d, a: dob, lda: s.qRow, b: v + kvOffset,
                               ldb: s.kvRow, c: ds.pointer, ldc: t)
                    for i in 0..<t {
                        let pr = p + i * t, dr = ds.pointer + i * t
                        let dot = GEMM.dot(pr, dr, count: i + 1)
                        for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                        for j in (i + 1)..<max(i + 1, t) { dr[j] = 0 }
                    }
                    if let dbias { Kernels.accumulate(dbias + (b * s.h + h) * t * t, ds.pointer, count: t * t) }
                    if let dq {
                        GEMM.sgemm(transA: false, transB: false, m: t, n: d, k: t, alpha: scale, a: ds.pointer, lda: t,
                                   b: k + kvOffset, ldb: s.kvRow, beta: 1, c: dq + qOffset, ldc: s.qRow)
                    }
                    if let dk {
                        GEMM.sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: scale, a: ds.pointer, lda: t,
                                   b: q + qOffset, ldb: s.qRow, beta: 1, c: dk + kvOffset, ldc: s.kvRow)
                    }
                }
            }
        }
    }
}

extension Tape {
    /// Causal grouped-query attention.
    ///
    /// - q: (B, T, H, D); k, v: (B, T, Hkv, D) with H % Hkv == 0.
    /// - keyMask: (B*T) values, 0 for padding keys, 1 for keys every later query sees, s >= 2 for
    ///   keys only queries of segment s see; or nil.
    /// - bias: (B, H, T, T) added to the scaled scores, or nil; it receives a gradient if it requires one.
    /// - scale: defaults to 1 / sqrt(D).
    /// - returns: (B, T, H, D)
    public func attention(q: Tensor, k: Tensor, v: Tensor, keyMask: [Int32]? = nil, bias: Tensor? = nil,
                          scale: Float? = nil) -> Tensor {
        let sizes = checkAttention(q: q, k: k, v: v, keyMask: keyMask, bias: bias)
        let scale = scale ?? 1 / Float(sizes.d).squareRoot()
        let y = output(q.shape, [q, k, v] + (bias.map { [$0] } ?? []))
        AttentionKernel.forward(y.data, q.data, k.data, v.data, keyMask: keyMask, bias: bias, scale: scale, sizes)
        record(y) { dy in
            AttentionKernel.backward(dq: Tape.gradient(q), dk: Tape.gradient(k), dv: Tape.gradient(v),
                                     dbias: bias.flatMap(Tape.gradient), dy.pointer, q.data, k.data, v.data,
                                     keyMask: keyMask, bias: bias, scale: scale, sizes)
        }
        return y
    }

    /// Attention and its output projection: linear(attention(q, k, v) as (B, T, H*D), W, b), scale
    /// 1 / sqrt(D), no bias. -> (B, T, Out)
    ///
    /// With `recomputeAttended` the backward recomputes the attention output for the projection's
    /// weight gradient instead of keeping it: H*D floats a row less until then, for one more pass
    /// of the attention kernel. Bitwise the same values and gradients either way.
    public func attention(q: Tensor, k: Tensor, v: Tensor, keyMask: [Int32]? = nil, output projection: LinearWeights,
                          recomputeAttended: Bool) -> Tensor {
        let (b, t, width) = (q.shape[0], q.shape[1], q.shape[2] * q.shape[3])
        guard recomputeAttended && isRecording else {
            let attended = attention(q: q, k: k, v: v, keyMask: keyMask)
            return linear(reshape(attended, [b, t, width]), projection)
        }
        let sizes = checkAttention(q: q, k: k, v: v, keyMask: keyMask, bias: nil)
        checkShapes(projection.weight.rank == 2 && projection.weight.shape[1] == width, "attention",
                    "output weight \(projection.weight.shape) for q \(q.shape)")
        let scale = 1 / Float(sizes.d).squareRoot()
        let (weight, bias) = (projection.weight, projection.bias)
        let outF = weight.shape[0]
        let y = output([b, t, outF], [q, k, v] + projection.tensors)
        let attendedNeeds = q.requiresGrad || k.requiresGrad || v.requiresGrad
        do {
            let attended = Storage(uninitializedCount: b * t * width)
            AttentionKernel.forward(attended.pointer, q.data, k.data, v.data, keyMask: keyMask, bias: nil, scale: scale, sizes)
            LinearKernel.forward(y.data, attended.pointer, projection, rows: b * t)
        }
        record(y) { dy in
            // The projection's backward, then the attention's (recorded in that order, reversed):
            // d attended needs only dy, so the attention's backward, which recomputes the
            // probabilities anyway, rewrites the attention output on the way for the projection's
            // weight gradient. Those land in other buffers than dq, dk, dv, so the order is free.
            let attended = Storage(uninitializedCount: b * t * width)
            if attendedNeeds {
                let dAttended = Storage(count: b * t * width)
                LinearKernel.inputGradient(dAttended.pointer, dy.pointer, weight.data, rows: b * t, in: width, out: outF)
                if let adapter = projection.adapter { AdapterKernel.inputGradient(dAttended.pointer, adapter, dy.pointer, rows: b * t) }
                AttentionKernel.backward(dq: Tape.gradient(q), dk: Tape.gradient(k), dv: Tape.gradient(v), dbias: nil,
                                         dAttended.pointer, q.data, k.data, v.data, keyMask: keyMask, bias: nil, scale: scale,
                                         sizes, out: attended.pointer)
            } else {
                AttentionKernel.forward(attended.pointer, q.data, k.data, v.data, keyMask: keyMask, bias: nil, scale: scale, sizes)
            }
            LinearKernel.parameterGradients(dw: Tape.gradient(weight), db: bias.flatMap(Tape.gradient), dy.pointer,
                                            attended.pointer, rows: b * t, in: width, out: outF)
            if let adapter = projection.adapter { AdapterKernel.parameterGradients(adapter, dy.pointer, attended.pointer, rows: b * t) }
        }
        return y
    }

    /// Checks attention shapes and returns the sizes.
    func checkAttention(q: Tensor, k: Tensor, v: Tensor, keyMask: [Int32]?, bias: Tensor?) -> AttentionKernel.Sizes {
        checkShapes(q.rank == 4 && k.rank == 4 && v.shape == k.shape, "attention",
                    "q \(q.shape), k \(k.shape), v \(v.shape) must be (B, T, H, D) and (B, T, Hkv, D)")
        let sizes = AttentionKernel.Sizes(b: q.shape[0], t: q.shape[1], h: q.shape[2], hkv: k.shape[2], d: q.shape[3])
        checkShapes(k.shape[0] == sizes.b && k.shape[1] == sizes.t && k.shape[3] == sizes.d
                    && sizes.hkv > 0 && sizes.h % sizes.hkv == 0, "attention",
                    "q \(q.shape) and k \(k.shape) disagree (Hkv must divide H)")
        if let keyMask {
            checkShapes(keyMask.count == sizes.b * sizes.t, "attention", "keyMask has \(keyMask.count) values for q \(q.shape)")
        }
        if let bias {
            checkShapes(bias.shape == [sizes.b, sizes.h, sizes.t, sizes.t], "attention",
                        "bias \(bias.shape) for q \(q.shape); expected (B, H, T, T)")
        }
        return sizes
    }
}
