import TensorCore

// Legend: B batch, T time, C hidden, H heads, Hkv kv heads, D head dim (C / H), I intermediate,
// V vocabulary.

/// A small Llama-style decoder-only transformer built from TensorCore's tape ops.
///
/// Each layer: RMSNorm -> q/k/v projections -> RoPE on q and k -> causal grouped-query attention
/// -> o projection -> residual; RMSNorm -> gate/up projections -> SwiGLU -> down projection ->
/// residual. Then a final RMSNorm and an untied lm_head. Parameters live in one `ParameterSet` under
/// Hugging Face's Llama names.
struct TinyDecoder {
    /// The architecture's sizes, named after Hugging Face's LlamaConfig fields.
    struct Config: Equatable {
        var vocabSize: Int
        var hiddenSize = 64
        var numHiddenLayers = 2
        var numAttentionHeads = 4
        var numKeyValueHeads = 2
        var intermediateSize = 192
        var ropeTheta: Float = 10_000
        var rmsNormEps: Float = 1e-5

        var headDim: Int { hiddenSize / numAttentionHeads }
    }

    /// The weights of one decoder layer, by their name under "model.layers.<i>.".
    private enum LayerWeight: String, CaseIterable {
        case inputNorm = "input_layernorm.weight"
        case qProj = "self_attn.q_proj.weight"
        case kProj = "self_attn.k_proj.weight"
        case vProj = "self_attn.v_proj.weight"
        case oProj = "self_attn.o_proj.weight"
        case postAttentionNorm = "post_attention_layernorm.weight"
        case gateProj = "mlp.gate_proj.weight"
        case upProj = "mlp.up_proj.weight"
        case downProj = "mlp.down_proj.weight"

        /// The weight's shape under `c`.
        func shape(_ c: Config) -> [Int] {
            let (hidden, q, kv, inter) = (c.hiddenSize, c.numAttentionHeads * c.headDim,
                                          c.numKeyValueHeads * c.headDim, c.intermediateSize)
            switch self {
            case .inputNorm, .postAttentionNorm: return [hidden]  // (C)
            case .qProj: return [q, hidden]                        // (H*D, C)
            case .kProj, .vProj: return [kv, hidden]               // (Hkv*D, C)
            case .oProj: return [hidden, q]                        // (C, H*D)
            case .gateProj, .upProj: return [inter, hidden]        // (I, C)
            case .downProj: return [hidden, inter]                 // (C, I)
            }
        }
    }

    /// One decoder layer's parameters: views into the model's `ParameterSet`.
    private struct Layer {
        let inputNorm: Tensor          // (C)
        let qProj: Tensor              // (H*D, C)
        let kProj: Tensor              // (Hkv*D, C)
        let vProj: Tensor              // (Hkv*D, C)
        let oProj: Tensor              // (C, H*D)
        let postAttentionNorm: Tensor  // (C)
        let gateProj: Tensor           // (I, C)
        let upProj: Tensor             // (I, C)
        let downProj: Tensor           // (C, I)

        init(index: Int, parameters: ParameterSet) {
            func weight(_ w: LayerWeight) -> Tensor { parameters[TinyDecoder.layerPrefix(index) + w.rawValue]! }
            inputNorm = weight(.inputNorm)
            qProj = weight(.qProj)
            kProj = weight(.kProj)
            vProj = weight(.vProj)
            oProj = weight(.oProj)
            postAttentionNorm = weight(.postAttentionNorm)
            gateProj = weight(.gateProj)
            upProj = weight(.upProj)
            downProj = weight(.downProj)
        }
    }

    let config: Config
    let parameters: ParameterSet
    private let embedTokens: Tensor  // (V, C)
    private let layers: [Layer]
    private let finalNorm: Tensor    // (C)
    private let lmHead: Tensor       // (V, C)

    /// A freshly initialised model: normal(0, 0.02) matrices and unit norm weights.
    init(config: Config, generator: inout SeededGenerator) {
        let parameters = ParameterSet(Self.parameterShapes(config))
        for tensor in parameters.tensors {
            if tensor.rank == 1 {
                for i in 0..<tensor.count { tensor.data[i] = 1 }
            } else {
                generator.fillNormal(tensor, std: 0.02)
            }
        }
        embedTokens = parameters["model.embed_tokens.weight"]!
        layers = (0..<config.numHiddenLayers).map { Layer(index: $0, parameters: parameters) }
        finalNorm = parameters["model.norm.weight"]!
        lmHead = parameters["lm_head.weight"]!
        self.config = config
        self.parameters = parameters
    }

    /// Every parameter's Hugging Face name and shape, in storage order.
    static func parameterShapes(_ c: Config) -> [(name: String, shape: [Int])] {
        let layerShapes = (0..<c.numHiddenLayers).flatMap { i in
            LayerWeight.allCases.map { (name: layerPrefix(i) + $0.rawValue, shape: $0.shape(c)) }
        }
        return [("model.embed_tokens.weight", [c.vocabSize, c.hiddenSize])]  // (V, C)
            + layerShapes
            + [("model.norm.weight", [c.hiddenSize]),                          // (C)
               ("lm_head.weight", [c.vocabSize, c.hiddenSize])]                // (V, C)
    }

    private static func layerPrefix(_ index: Int) -> String { "model.layers.\(index)." }

    /// Logits (B, T, V) for `ids` (B*T, row-major), each sequence at positions 0..<T.
    func forward(_ ids: [Int32], batch: Int, time: Int, tape: Tape) -> Tensor {
        let positions = (0..<batch).flatMap { _ in (0..<time).map { Int32($0) } }
        let rotary = RotaryTable(positions: positions, headDim: config.headDim, theta: config.ropeTheta)
        var h = tape.embedding(embedTokens, ids: ids, idShape: [batch, time])  // (B, T, C)
        for layer in layers {
            let attended = attention(tape.rmsNorm(h, weight: layer.inputNorm, eps: config.rmsNormEps),
                                     layer: layer, rotary: rotary, tape: tape)
            h = tape.add(h, attended)
            let mixed = mlp(tape.rmsNorm(h, weight: layer.postAttentionNorm, eps: config.rmsNormEps),
                            layer: layer, tape: tape)
            h = tape.add(h, mixed)
        }
        let normed = tape.rmsNorm(h, weight: finalNorm, eps: config.rmsNormEps)  // (B, T, C)
        return tape.linear(normed, lmHead)                                       // (B, T, V)
    }

    /// Causal grouped-query self-attention with RoPE.  x: (B, T, C) -> (B, T, C)
    private func attention(_ x: Tensor, layer: Layer, rotary: RotaryTable, tape: Tape) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], config.headDim)
        let (heads, kvHeads) = (config.numAttentionHeads, config.numKeyValueHeads)
        let q = tape.rope(tape.reshape(tape.linear(x, layer.qProj), [b, t, heads, d]), table: rotary)    // (B, T, H, D)
        let k = tape.rope(tape.reshape(tape.linear(x, layer.kProj), [b, t, kvHeads, d]), table: rotary)  // (B, T, Hkv, D)
        let v = tape.reshape(tape.linear(x, layer.vProj), [b, t, kvHeads, d])                            // (B, T, Hkv, D)
        let y = tape.attention(q: q, k: k, v: v)                                                         // (B, T, H, D)
        return tape.linear(tape.reshape(y, [b, t, heads * d]), layer.oProj)                              // (B, T, C)
    }

    /// The SwiGLU MLP: down(silu(gate(x)) * up(x)).  x: (B, T, C) -> (B, T, C)
    private func mlp(_ x: Tensor, layer: Layer, tape: Tape) -> Tensor {
        let gated = tape.swiglu(gate: tape.linear(x, layer.gateProj), up: tape.linear(x, layer.upProj))  // (B, T, I)
        return tape.linear(gated, layer.downProj)                                                         // (B, T, C)
    }

    /// Greedy continuations of equal-length prompts, re-running the full forward for each new token
    /// on an inference tape (no KV cache). A continuation stops after `stop` or `maxNewTokens` tokens.
    func greedyContinuations(of prompts: [[Int32]], maxNewTokens: Int, stop: Int32) -> [[Int32]] {
        guard let length = prompts.first?.count else { return [] }
        precondition(prompts.allSatisfy { $0.count == length }, "greedyContinuations: prompts differ in length")
        var sequences = prompts
        var finished = [Bool](repeating: false, count: prompts.count)
        for _ in 0..<maxNewTokens where finished.contains(false) {
            let time = sequences[0].count
            let logits = forward(sequences.flatMap { $0 }, batch: sequences.count, time: time,
                                 tape: Tape(recording: false))  // (B, T, V)
            for row in sequences.indices {
                // Finished rows keep decoding (padding with `stop`) so every row stays the same length.
                let next = finished[row] ? stop : argmax(logits, row: row * time + time - 1)
                sequences[row].append(next)
                finished[row] = finished[row] || next == stop
            }
        }
        return sequences.map { sequence in
            let continuation = Array(sequence.dropFirst(length))
            guard let end = continuation.firstIndex(of: stop) else { return continuation }
            return Array(continuation[...end])
        }
    }

    /// The index of the largest logit in one row of (N, V) logits.
    private func argmax(_ logits: Tensor, row: Int) -> Int32 {
        let vocab = logits.lastDim, base = logits.data + row * vocab
        var best = 0
        for j in 1..<vocab where base[j] > base[best] { best = j }
        return Int32(best)
    }
}
