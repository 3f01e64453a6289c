import TensorCore

/// Decoding with a KV cache: a batched prefill, then one token per running row per step.
/// Legend: B rows, R running rows, T prompt length, L cached length, C hidden, H/Hkv heads,
/// G = H / Hkv, D head dim, V vocab.
extension DecoderModel {
    /// Runs the prompts (B, T) through the model, fills the cache, and returns the logits of each
    /// row's last position (B, V).
    public func prefill(_ batch: Batch, cache: KVCache) -> Tensor {
        precondition(cache.rows == batch.batch && batch.time <= cache.capacity && cache.length == 0,
                     "prefill: cache of \(cache.rows) rows x \(cache.capacity) for a (\(batch.batch), \(batch.time)) batch")
        let tape = Tape(recording: false)
        let hidden = hiddenStates(tape, batch, cache: cache)  // (B, T, C)
        cache.finishPrefill(time: batch.time, attentionMask: batch.attentionMask)
        let last = (0..<batch.batch).map { $0 * batch.time + batch.time - 1 }
        return logits(tape, hidden: tape.gatherRows(hidden, rows: last))
    }

    /// Appends one token to each running row (`rows` index the cache) at the given positions and
    /// returns their next-token logits (R, V).
    public func decodeStep(cache: KVCache, rows active: [Int], tokens: [Int32], positions: [Int32]) -> Tensor {
        precondition(active.count == tokens.count && tokens.count == positions.count && cache.length < cache.capacity,
                     "decodeStep: \(active.count) rows, \(tokens.count) tokens, cache \(cache.length)/\(cache.capacity)")
        let c = config
        let r = active.count
        let tape = Tape(recording: false)
        let rope = RotaryTable(positions: positions, headDim: c.headDim, theta: c.ropeTheta)
        var x = tape.embedding(embed, ids: tokens, idShape: [r])  // (R, C)
        for (l, block) in blocks.enumerated() {
            let h = tape.rmsNorm(x, weight: block.inputNorm, eps: c.rmsNormEps)
            var q = tape.reshape(tape.linear(h, block.q, bias: block.qBias), [r, 1, c.headCount, c.headDim])
            var k = tape.reshape(tape.linear(h, block.k, bias: block.kBias), [r, 1, c.kvHeadCount, c.headDim])
            let v = tape.linear(h, block.v, bias: block.vBias)  // (R, Hkv*D)
            if let qNorm = block.qNorm, let kNorm = block.kNorm {
                q = tape.rmsNorm(q, weight: qNorm, eps: c.rmsNormEps)
                k = tape.rmsNorm(k, weight: kNorm, eps: c.rmsNormEps)
            }
            q = tape.rope(q, table: rope)
            k = tape.rope(k, table: rope)
            cache.storeStep(layer: l, rows: active, k: k, v: v)
            let attended = cachedAttention(q: q, cache: cache, layer: l, rows: active)  // (R, H*D)
            x = tape.add(x, tape.linear(attended, block.o, bias: block.oBias))
            let h2 = tape.rmsNorm(x, weight: block.postNorm, eps: c.rmsNormEps)
            let gated = tape.swiglu(gate: tape.linear(h2, block.gate, bias: block.gateBias),
                                    up: tape.linear(h2, block.up, bias: block.upBias))
            x = tape.add(x, tape.linear(gated, block.down, bias: block.downBias))
        }
        cache.finishStep(rows: active)
        return logits(tape, hidden: tape.rmsNorm(x, weight: finalNorm, eps: c.rmsNormEps))
    }

    /// One query per running row against its cached keys 0...length (the new position included).
    /// q: (R, 1, H, D) -> (R, H*D). Each kv head's G query heads go through two small GEMMs.
    func cachedAttention(q: Tensor, cache: KVCache, layer: Int, rows active: [Int]) -> Tensor {
        let c = config
        let (d, g, n) = (c.headDim, c.headCount / c.kvHeadCount, cache.length + 1)
        let out = Tensor(zeros: [active.count, c.headCount * d])
        let scale = 1 / Float(d).squareRoot()
        let keys = cache.keys[layer].pointer, values = cache.values[layer].pointer
        ThreadPool.shared.parallelFor(active.count * c.kvHeadCount, costPerItem: 4 * g * n * d) { tasks in
            let scores = Storage(count: g * n)
            for task in tasks {
                let (r, kvh) = (task / c.kvHeadCount, task % c.kvHeadCount)
                let row = active[r]
                let qg = q.data + (r * c.headCount + kvh * g) * d  // (G, D)
                let kRow = keys + cache.offset(row: row, head: kvh, position: 0)  // (L, D)
                let vRow = values + cache.offset(row: row, head: kvh, position: 0)
                // scores (G, L) = scale * Q K^T
                GEMM.sgemm(transA: false, transB: true, m: g, n: n, k: d, alpha: scale, a: qg, lda: d,
                           b: kRow, ldb: d, c: scores.pointer, ldc: n)
                cache.keyMask.withUnsafeBufferPointer { mask in
                    let m = mask.baseAddress! + row * cache.capacity
                    for i in 0..<g {
                        // The new position is visible; earlier ones when the mask allows.
                        AttentionKernel.softmaxVisible(scores.pointer + i * n, row: n - 1, t: n, mask: m, lastAlwaysVisible: true)
                    }
                }
                // out (G, D) = P V
                GEMM.sgemm(transA: false, transB: false, m: g, n: d, k: n, a: scores.pointer, lda: n,
                           b: vRow, ldb: d, c: out.data + (r * c.headCount + kvh * g) * d, ldc: d)
            }
        }
        return out
    }
}
