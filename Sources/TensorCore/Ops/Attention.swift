// Legend: B batch, T time, H query heads, Hkv key/value heads (H % Hkv == 0), D head dim,
// G = H / Hkv query heads per key/value head.

/// Causal grouped-query self-attention, one (batch, head) at a time through GEMM.
///
/// Query head h reads key/value head h / G. Key j is visible to query i when j <= i and
/// keyMask[b, j] != 0. scores = scale * q.k + bias; probabilities are a softmax over the visible
/// keys; a query with no visible key (a padded position) gets probabilities 0 and output 0.
public enum AttentionKernel {
    struct Sizes {
        let b: Int, t: Int, h: Int, hkv: Int, d: Int
        var group: Int { h / hkv }
        var qRow: Int { h * d }
        var kvRow: Int { hkv * d }
    }

    /// out (B, T, H, D), probs (B, H, T, T) <- q (B, T, H, D), k, v (B, T, Hkv, D),
    /// keyMask (B*T) or nil, bias (B, H, T, T) or nil.
    static func forward(_ out: UnsafeMutablePointer<Float>, _ probs: UnsafeMutablePointer<Float>,
                        _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                        keyMask: UnsafePointer<Int32>?, bias: UnsafePointer<Float>?, scale: Float, _ s: Sizes) {
        let (t, d) = (s.t, s.d)
        ThreadPool.shared.parallelFor(s.b * s.h, costPerItem: 4 * t * t * d) { tasks in for task in tasks {
            let (b, h) = (task / s.h, task % s.h)
            let kvh = h / s.group
            let qbh = q + b * t * s.qRow + h * d
            let kbh = k + b * t * s.kvRow + kvh * d, vbh = v + b * t * s.kvRow + kvh * d
            let p = probs + task * t * t
            // P (T, T) = scale * Q K^T (+ bias)
            GEMM.sgemm(transA: false, transB: true, m: t, n: t, k: d, alpha: scale,
                       a: qbh, lda: s.qRow, b: kbh, ldb: s.kvRow, c: p, ldc: t)
            if let bias { Kernels.accumulate(p, bias + task * t * t, count: t * t) }
            for i in 0..<t {
                softmaxVisible(p + i * t, row: i, t: t, mask: keyMask.map { $0 + b * t })
            }
            // O (T, D) = P V
            GEMM.sgemm(transA: false, transB: false, m: t, n: d, k: t, a: p, lda: t, b: vbh, ldb: s.kvRow,
                       c: out + b * t * s.qRow + h * d, ldc: s.qRow)
        } }
    }

    /// Softmax of row i over the keys 0...i that the mask allows; every other entry becomes 0.
    /// With `lastAlwaysVisible`, key i is visible whatever the mask says (a decode step's own key).
    @inline(__always)
    public static func softmaxVisible(_ row: UnsafeMutablePointer<Float>, row i: Int, t: Int, mask: UnsafePointer<Int32>?,
                                      lastAlwaysVisible: Bool = false) {
        if let mask {
            for j in 0..<(lastAlwaysVisible ? i : i + 1) where mask[j] == 0 { row[j] = -Float.infinity }
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
    /// forward's inputs and probabilities. One task per (batch, kv head), so the G query heads that
    /// share dk and dv accumulate into them in order.
    ///
    /// dP = dO V^T;  dS = P * (dP - rowsum(P * dP));  dQ += scale dS K;  dK += scale dS^T Q;  dV += P^T dO.
    static func backward(dq: UnsafeMutablePointer<Float>?, dk: UnsafeMutablePointer<Float>?,
                         dv: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                         _ v: UnsafePointer<Float>, _ probs: UnsafePointer<Float>, scale: Float, _ s: Sizes) {
        let (t, d) = (s.t, s.d)
        ThreadPool.shared.parallelFor(s.b * s.hkv, costPerItem: 12 * s.group * t * t * d) { tasks in for task in tasks {
            let (b, kvh) = (task / s.hkv, task % s.hkv)
            let kvOffset = b * t * s.kvRow + kvh * d
            let ds = Storage(count: t * t)
            for h in (kvh * s.group)..<((kvh + 1) * s.group) {
                let qOffset = b * t * s.qRow + h * d
                let p = probs + (b * s.h + h) * t * t
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
        } }
    }
}

extension Tape {
    /// Causal grouped-query attention.
    ///
    /// - q: (B, T, H, D); k, v: (B, T, Hkv, D) with H % Hkv == 0.
    /// - keyMask: (B*T) values, 0 for padding keys, or nil.
    /// - bias: (B, H, T, T) added to the scaled scores, or nil; it receives a gradient if it requires one.
    /// - scale: defaults to 1 / sqrt(D).
    /// - returns: (B, T, H, D)
    public func attention(q: Tensor, k: Tensor, v: Tensor, keyMask: [Int32]? = nil, bias: Tensor? = nil,
                          scale: Float? = nil) -> Tensor {
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
        let scale = scale ?? 1 / Float(sizes.d).squareRoot()
        let y = output(q.shape, [q, k, v] + (bias.map { [$0] } ?? []))
        let probs = Storage(count: sizes.b * sizes.h * sizes.t * sizes.t)
        let mask = keyMask ?? []
        mask.withUnsafeBufferPointer { m in
            AttentionKernel.forward(y.data, probs.pointer, q.data, k.data, v.data,
                                    keyMask: keyMask == nil ? nil : m.baseAddress, bias: bias.map { UnsafePointer($0.data) },
                                    scale: scale, sizes)
        }
        record(y) { dy in
            AttentionKernel.backward(dq: q.requiresGrad ? q.ensureGrad().pointer : nil,
                                     dk: k.requiresGrad ? k.ensureGrad().pointer : nil,
                                     dv: v.requiresGrad ? v.ensureGrad().pointer : nil,
                                     dbias: (bias?.requiresGrad ?? false) ? bias!.ensureGrad().pointer : nil,
                                     dy.pointer, q.data, k.data, v.data, probs.pointer, scale: scale, sizes)
        }
        return y
    }
}
