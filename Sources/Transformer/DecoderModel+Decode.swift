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
    ///
    /// Untaped, and it makes no tensors: the step's buffers live in the cache (`DecodeWorkspace`),
    /// and the returned logits are a view of one of them, valid until the next step on this cache.
    public func decodeStep(cache: KVCache, rows active: [Int], tokens: [Int32], positions: [Int32]) -> Tensor {
        precondition(active.count == tokens.count && tokens.count == positions.count && cache.length < cache.capacity
                     && active.allSatisfy { (0..<cache.rows).contains($0) } && positions.allSatisfy { $0 >= 0 },
                     "decodeStep: rows \(active) of a \(cache.rows)-row cache, \(tokens.count) tokens, positions \(positions), "
                     + "cache \(cache.length)/\(cache.capacity)")
        let c = config
        let r = active.count
        let ws = cache.decodeWorkspace ?? DecodeWorkspace(config: c, rows: cache.rows, capacity: cache.capacity)
        cache.decodeWorkspace = ws
        ws.cover(position: Int(positions.max() ?? 0))
        let (hidden, qWidth, kvWidth, inter) = (c.hiddenSize, c.headCount * c.headDim, c.kvHeadCount * c.headDim, c.intermediateSize)
        for (i, id) in tokens.enumerated() {  // x (R, C)
            precondition(id >= 0 && Int(id) < c.vocabSize, "decodeStep: token \(id) outside the vocabulary of \(c.vocabSize)")
            (ws.x.pointer + i * hidden).update(from: embed.data + Int(id) * hidden, count: hidden)
        }
        let pass = adapters?.nextPass(training: false)
        func adapter(_ l: Int, _ module: LoRAAdapters.Module) -> LoRAAdapter? { pass.flatMap { adapters?.adapter(layer: l, module, $0) } }
        for (l, block) in blocks.enumerated() {
            DecodeKernels.rmsNorm(ws.normed.pointer, ws.x.pointer, weight: block.inputNorm, rows: r, eps: c.rmsNormEps)
            DecodeKernels.linear(ws.normed.pointer, rows: r, [  // q (R, H*D), k, v (R, Hkv*D)
                .init(weight: block.q, bias: block.qBias, out: ws.q.pointer, outStride: qWidth),
                .init(weight: block.k, bias: block.kBias, out: ws.k.pointer, outStride: kvWidth),
                .init(weight: block.v, bias: block.vBias, out: ws.v.pointer, outStride: kvWidth),
            ])
            for (module, out) in [(LoRAAdapters.Module.q, ws.q), (.k, ws.k), (.v, ws.v)] {
                DecodeKernels.addAdapter(out.pointer, ws.normed.pointer, rows: r, adapter(l, module))
            }
            cachedAttention(ws, cache: cache, layer: l, block: block, rows: active, positions: positions)  // (R, H*D)
            DecodeKernels.linear(ws.attended.pointer, rows: r, [  // x += o
                .init(weight: block.o, bias: block.oBias, out: ws.x.pointer, outStride: hidden, accumulate: true),
            ])
            DecodeKernels.addAdapter(ws.x.pointer, ws.attended.pointer, rows: r, adapter(l, .o))
            DecodeKernels.rmsNorm(ws.normed.pointer, ws.x.pointer, weight: block.postNorm, rows: r, eps: c.rmsNormEps)
            DecodeKernels.swigluLinear(ws.normed.pointer, rows: r, gate: block.gate, gateBias: block.gateBias,  // (R, I)
                                       up: block.up, upBias: block.upBias, out: ws.gated.pointer, outStride: inter,
                                       gateAdapter: adapter(l, .gate), upAdapter: adapter(l, .up))
            DecodeKernels.linear(ws.gated.pointer, rows: r, [  // x += down
                .init(weight: block.down, bias: block.downBias, out: ws.x.pointer, outStride: hidden, accumulate: true),
            ])
            DecodeKernels.addAdapter(ws.x.pointer, ws.gated.pointer, rows: r, adapter(l, .down))
        }
        cache.finishStep(rows: active)
        DecodeKernels.rmsNorm(ws.normed.pointer, ws.x.pointer, weight: finalNorm, rows: r, eps: c.rmsNormEps)
        DecodeKernels.linear(ws.normed.pointer, rows: r, [.init(weight: lmHead, out: ws.logits.pointer, outStride: c.vocabSize)])
        return Tensor(shape: [r, c.vocabSize], storage: Storage(viewOf: ws.logits, offset: 0, count: r * c.vocabSize))
    }

    /// Per running row: Qwen3's per-head q/k norms, RoPE at the row's position, its new key and
    /// value into the cache, then each kv head's G queries against the cached keys 0...length.
    /// The workspace's q (R, H*D), k, v (R, Hkv*D) -> attended (R, H*D).
    func cachedAttention(_ ws: DecodeWorkspace, cache: KVCache, layer: Int, block: Block, rows active: [Int], positions: [Int32]) {
        let c = config
        let (d, g, n) = (c.headDim, c.headCount / c.kvHeadCount, cache.length + 1)
        let (qWidth, kvWidth) = (c.headCount * d, c.kvHeadCount * d)
        let scale = 1 / Float(d).squareRoot()
        let keys = cache.keys[layer].pointer, values = cache.values[layer].pointer
        let rotary = ws.rotary
        cache.keyMask.withUnsafeBufferPointer { maskBuffer in
            let mask = maskBuffer.baseAddress!
            DecodeKernels.parallelRows(active.count, macsPerRow: 2 * c.headCount * n * d) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: g * n) { scores in
                    for i in range {
                        let row = active[i], position = Int(positions[i])
                        let q = ws.q.pointer + i * qWidth, k = ws.k.pointer + i * kvWidth
                        if let qNorm = block.qNorm, let kNorm = block.kNorm {
                            DecodeKernels.rmsNorm(q, q, weight: qNorm, rows: c.headCount, eps: c.rmsNormEps)
                            DecodeKernels.rmsNorm(k, k, weight: kNorm, rows: c.kvHeadCount, eps: c.rmsNormEps)
                        }
                        DecodeKernels.rope(q, heads: c.headCount, position: position, table: rotary)
                        DecodeKernels.rope(k, heads: c.kvHeadCount, position: position, table: rotary)
                        cache.storeStep(layer: layer, row: row, k: k, v: ws.v.pointer + i * kvWidth)
                        for h in 0..<c.kvHeadCount {
                            let start = cache.offset(row: row, head: h, position: 0)
                            DecodeKernels.attendCached(ws.attended.pointer + i * qWidth + h * g * d, q: q + h * g * d,
                                                       keys: keys + start, values: values + start,
                                                       keyMask: mask + row * cache.capacity, length: n, groups: g,
                                                       headDim: d, scale: scale, scores: scores.baseAddress!)
                        }
                    }
                }
            }
        }
    }
}
