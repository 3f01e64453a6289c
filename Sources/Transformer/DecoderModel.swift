import TensorCore

/// A Llama-style decoder (Llama, Qwen2, Qwen3): token embedding, L blocks of pre-norm grouped-query
/// attention with RoPE and a SwiGLU MLP, a final RMSNorm and the LM head (tied or not).
/// Legend: B batch, T time, C hidden, H/Hkv heads, D head dim, I intermediate, V vocab.
public final class DecoderModel {
    public let config: DecoderConfig
    /// Every parameter, by Hugging Face name, in flat buffers.
    public let parameters: ParameterSet
    /// LoRA adapters on the linear layers, if any (then `parameters` is usually frozen).
    public let adapters: LoRAAdapters?

    struct Block {
        let inputNorm: Tensor  // (C)
        let q: Tensor, qBias: Tensor?  // (H*D, C), (H*D)
        let k: Tensor, kBias: Tensor?  // (Hkv*D, C), (Hkv*D)
        let v: Tensor, vBias: Tensor?  // (Hkv*D, C), (Hkv*D)
        let o: Tensor, oBias: Tensor?  // (C, H*D), (C)
        let qNorm: Tensor?, kNorm: Tensor?  // (D), (D)
        let postNorm: Tensor  // (C)
        let gate: Tensor, gateBias: Tensor?  // (I, C), (I)
        let up: Tensor, upBias: Tensor?  // (I, C), (I)
        let down: Tensor, downBias: Tensor?  // (C, I), (C)
    }

    let embed: Tensor  // (V, C)
    let blocks: [Block]
    let finalNorm: Tensor  // (C)
    let lmHead: Tensor  // (V, C); the embedding when tied (and for a score model, which has no LM head)
    let scoreHead: Tensor?  // (N, C) for a sequence-classification model

    /// Activation checkpointing (transformers' gradient_checkpointing): on a recording tape each
    /// decoder layer keeps only its input and runs again in backward (`Tape.checkpointed`), for
    /// bitwise the same gradients. A prefill into a KV cache is never checkpointed.
    public var gradientCheckpointing = false

    /// A model with zero-filled parameters (load or initialise them next).
    public init(config: DecoderConfig) {
        self.config = config
        let params = ParameterSet(DecoderLayout(config).specs)
        parameters = params
        adapters = nil
        func p(_ name: String) -> Tensor { params[name]! }
        func optional(_ name: String) -> Tensor? { params[name] }
        embed = p("model.embed_tokens.weight")
        blocks = (0..<config.layerCount).map { l in
            let s = "model.layers.\(l)."
            return Block(
                inputNorm: p(s + "input_layernorm.weight"),
                q: p(s + "self_attn.q_proj.weight"), qBias: optional(s + "self_attn.q_proj.bias"),
                k: p(s + "self_attn.k_proj.weight"), kBias: optional(s + "self_attn.k_proj.bias"),
                v: p(s + "self_attn.v_proj.weight"), vBias: optional(s + "self_attn.v_proj.bias"),
                o: p(s + "self_attn.o_proj.weight"), oBias: optional(s + "self_attn.o_proj.bias"),
                qNorm: optional(s + "self_attn.q_norm.weight"), kNorm: optional(s + "self_attn.k_norm.weight"),
                postNorm: p(s + "post_attention_layernorm.weight"),
                gate: p(s + "mlp.gate_proj.weight"), gateBias: optional(s + "mlp.gate_proj.bias"),
                up: p(s + "mlp.up_proj.weight"), upBias: optional(s + "mlp.up_proj.bias"),
                down: p(s + "mlp.down_proj.weight"), downBias: optional(s + "mlp.down_proj.bias"))
        }
        finalNorm = p("model.norm.weight")
        lmHead = config.tieWordEmbeddings || config.scoreLabels != nil ? embed : p("lm_head.weight")
        scoreHead = optional("score.weight")
    }

    /// The same model (its weights shared, not copied) with `adapters` on its linear layers, or
    /// without any when nil.
    public init(base: DecoderModel, adapters: LoRAAdapters?) {
        precondition(adapters.map { $0.config == base.config } ?? true, "DecoderModel: adapters made for another config")
        config = base.config
        parameters = base.parameters
        self.adapters = adapters
        embed = base.embed
        blocks = base.blocks
        finalNorm = base.finalNorm
        lmHead = base.lmHead
        scoreHead = base.scoreHead
    }

    /// The model without its adapters, sharing its weights: LoRA's reference policy.
    public var withoutAdapters: DecoderModel { adapters == nil ? self : DecoderModel(base: self, adapters: nil) }

    /// What an optimizer trains: the adapters when there are any, else every parameter.
    public var trainable: ParameterSet { adapters?.parameters ?? parameters }

    /// Initialises like transformers' `_init_weights`: normal(0, std) for matrices, zeros for
    /// biases, ones for norm weights.
    public func initialize(seed: UInt64, std: Float = 0.02) {
        var rng = SeededGenerator(seed: seed)
        for t in parameters.tensors {
            if t.name.hasSuffix("norm.weight") {
                for i in 0..<t.count { t.data[i] = 1 }
            } else if t.name.hasSuffix(".bias") {
                t.storage.zero()
            } else {
                rng.fillNormal(t, std: std)
            }
        }
    }

    /// One batch of token rows: ids (B*T), per-row position ids (B*T), and an optional attention
    /// mask (B*T; 0 marks padding, which no query attends to).
    public struct Batch {
        public let ids: [Int32]
        public let positions: [Int32]
        public let attentionMask: [Int32]?
        public let batch: Int, time: Int

        public init(ids: [Int32], positions: [Int32], attentionMask: [Int32]? = nil, batch: Int, time: Int) {
            precondition(ids.count == batch * time && positions.count == batch * time
                         && (attentionMask?.count ?? batch * time) == batch * time,
                         "DecoderModel.Batch: \(ids.count) ids, \(positions.count) positions for (B \(batch), T \(time))")
            self.ids = ids
            self.positions = positions
            self.attentionMask = attentionMask
            self.batch = batch
            self.time = time
        }

        /// Rows padded on the left or right: positions count real tokens from 0 (padding gets 0),
        /// as transformers computes them from the attention mask.
        public init(ids: [Int32], attentionMask: [Int32], batch: Int, time: Int) {
            var positions = [Int32](repeating: 0, count: ids.count)
            for b in 0..<batch {
                var next: Int32 = 0
                for t in 0..<time where attentionMask[b * time + t] != 0 {
                    positions[b * time + t] = next
                    next += 1
                }
            }
            self.init(ids: ids, positions: positions, attentionMask: attentionMask, batch: batch, time: time)
        }
    }

    /// The final hidden states (B, T, C), after the last RMSNorm. With a cache, each layer's keys
    /// (after RoPE) and values are stored in it (a prefill).
    public func hiddenStates(_ tape: Tape, _ batch: Batch, cache: KVCache? = nil) -> Tensor {
        let c = config
        let (b, t) = (batch.batch, batch.time)
        let rope = RotaryTable(positions: batch.positions, headDim: c.headDim, theta: c.ropeTheta)
        let pass = adapters?.nextPass(training: tape.isRecording)
        var x = tape.embedding(embed, ids: batch.ids, idShape: [b, t])  // (B, T, C)
        for (l, block) in blocks.enumerated() {
            // A layer of the residual stream (B, T, C) -> (B, T, C).
            func layer(_ tape: Tape, _ x: Tensor, recomputeUp: Bool) -> Tensor {
                let qkv = projections(tape, x, block, layer: l, pass)
                var q = tape.reshape(qkv[0], [b, t, c.headCount, c.headDim])
                var k = tape.reshape(qkv[1], [b, t, c.kvHeadCount, c.headDim])
                let v = tape.reshape(qkv[2], [b, t, c.kvHeadCount, c.headDim])
                if let qNorm = block.qNorm, let kNorm = block.kNorm {
                    q = tape.rmsNorm(q, weight: qNorm, eps: c.rmsNormEps)  // over D, per head
                    k = tape.rmsNorm(k, weight: kNorm, eps: c.rmsNormEps)
                }
                q = tape.rope(q, table: rope)
                k = tape.rope(k, table: rope)
                cache?.storePrefill(layer: l, k: k, v: v, time: t)
                let o = linear(block.o, block.oBias, layer: l, .o, pass)
                let attended = tape.add(x, tape.attention(q: q, k: k, v: v, keyMask: batch.attentionMask, output: o,
                                                          recomputeAttended: true))
                return tape.add(attended, mlp(tape, attended, block, layer: l, pass, recomputeUp: recomputeUp))
            }
            if gradientCheckpointing && cache == nil {
                // Only the layer's input is kept; backward runs the layer again (with the same LoRA
                // dropout masks: they hash the pass's key). Its activations then live one layer at
                // a time, so recomputing the up projection saves little.
                x = tape.checkpointed(x) { tape, x in layer(tape, x, recomputeUp: false) }
            } else {
                // Backward recomputes the attention output, and below the last block the MLP's up
                // projection, rather than keep them (bitwise the same). Memory peaks in the last
                // block's MLP backward, which runs first, while every block's activations are alive:
                // recomputing its up projection there would cost time without lowering the peak.
                x = layer(tape, x, recomputeUp: l < blocks.count - 1)
            }
        }
        return tape.rmsNorm(x, weight: finalNorm, eps: c.rmsNormEps)
    }

    /// A block's linear layer with its adapter in this pass, if it has one.
    func linear(_ weight: Tensor, _ bias: Tensor?, layer: Int, _ module: LoRAAdapters.Module, _ pass: LoRAAdapters.Pass?) -> LinearWeights {
        LinearWeights(weight, bias: bias, adapter: pass.flatMap { adapters?.adapter(layer: layer, module, $0) })
    }

    /// The block's query, key and value projections of the normalised residual stream x (..., C).
    private func projections(_ tape: Tape, _ x: Tensor, _ block: Block, layer l: Int, _ pass: LoRAAdapters.Pass?) -> [Tensor] {
        tape.normalizedLinears(x, norm: block.inputNorm, eps: config.rmsNormEps,
                               [linear(block.q, block.qBias, layer: l, .q, pass), linear(block.k, block.kBias, layer: l, .k, pass),
                                linear(block.v, block.vBias, layer: l, .v, pass)])
    }

    /// The block's MLP on the residual stream x (..., C), before the residual add.
    private func mlp(_ tape: Tape, _ x: Tensor, _ block: Block, layer l: Int, _ pass: LoRAAdapters.Pass?, recomputeUp: Bool) -> Tensor {
        tape.gatedMLP(x, norm: block.postNorm, eps: config.rmsNormEps, gate: linear(block.gate, block.gateBias, layer: l, .gate, pass),
                      up: linear(block.up, block.upBias, layer: l, .up, pass), down: linear(block.down, block.downBias, layer: l, .down, pass),
                      recomputeUp: recomputeUp)
    }

    /// Logits (..., V) of hidden states (..., C).
    public func logits(_ tape: Tape, hidden: Tensor) -> Tensor {
        tape.linear(hidden, lmHead)
    }

    /// Log-probabilities of `targets` at the given flat positions (into B*T) and the entropies there
    /// (not differentiable: the trainers log them), at a temperature, through the fused LM-head op:
    /// only those rows reach the LM head, a chunk at a time, so no (R, V) logits are ever held.
    ///
    /// - returns: logprob (R), entropy (R) for the R positions.
    public func tokenLogprobs(_ tape: Tape, _ batch: Batch, positions: [Int], targets: [Int32], temperature: Float = 1)
        -> (logprob: Tensor, entropy: Tensor) {
        let hidden = hiddenStates(tape, batch)  // (B, T, C)
        let picked = tape.gatherRows(hidden, rows: positions)  // (R, C)
        return tape.tokenLogprob(hidden: picked, weight: lmHead, targets: targets, temperature: temperature)
    }

    /// The score head's outputs (R, N) at the given flat positions (into B*T) of a
    /// sequence-classification model: one value per position for PPO's value model, and for a
    /// reward model the position of each row's last token.
    public func scores(_ tape: Tape, _ batch: Batch, positions: [Int]) -> Tensor {
        guard let scoreHead else { preconditionFailure("scores: \(config.modelType) model has no score head (scoreLabels is nil)") }
        return tape.linear(tape.gatherRows(hiddenStates(tape, batch), rows: positions), scoreHead)
    }

    /// Logits (B, T, V) of a batch.
    public func logits(_ tape: Tape, _ batch: Batch) -> Tensor {
        logits(tape, hidden: hiddenStates(tape, batch))
    }
}

extension DecoderModel {
    /// A sequence-classification model (score head of `labels` outputs) with this model's backbone
    /// weights, the head drawn from normal(0, std) as transformers initialises it: what
    /// AutoModelForSequenceClassification.from_pretrained(policy, num_labels=1) makes of a causal LM.
    public func scoreModel(labels: Int = 1, seed: UInt64, std: Float = 0.02) -> DecoderModel {
        let scored = DecoderModel(config: config.withScoreHead(labels: labels))
        for t in scored.parameters.tensors {
            if let source = parameters[t.name] {
                t.data.update(from: source.data, count: t.count)
            } else {
                var rng = SeededGenerator(seed: seed)
                rng.fillNormal(t, std: std)
            }
        }
        return scored
    }
}
