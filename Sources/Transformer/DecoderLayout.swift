/// The parameter tensors of a decoder, by Hugging Face name, in checkpoint order.
/// Legend: V vocab, C hidden, I intermediate, H heads, Hkv kv heads, D head dim, L layers.
public struct DecoderLayout {
    public let specs: [(name: String, shape: [Int])]

    public init(_ c: DecoderConfig) {
        let (v, h, i) = (c.vocabSize, c.hiddenSize, c.intermediateSize)
        let (q, kv) = (c.headCount * c.headDim, c.kvHeadCount * c.headDim)
        var specs: [(String, [Int])] = [("model.embed_tokens.weight", [v, h])]  // (V, C)
        for l in 0..<c.layerCount {
            let p = "model.layers.\(l)."
            specs.append((p + "input_layernorm.weight", [h]))
            specs.append((p + "self_attn.q_proj.weight", [q, h]))  // (H*D, C)
            if c.qkvBias { specs.append((p + "self_attn.q_proj.bias", [q])) }
            specs.append((p + "self_attn.k_proj.weight", [kv, h]))  // (Hkv*D, C)
            if c.qkvBias { specs.append((p + "self_attn.k_proj.bias", [kv])) }
            specs.append((p + "self_attn.v_proj.weight", [kv, h]))  // (Hkv*D, C)
            if c.qkvBias { specs.append((p + "self_attn.v_proj.bias", [kv])) }
            specs.append((p + "self_attn.o_proj.weight", [h, q]))  // (C, H*D)
            if c.outputBias { specs.append((p + "self_attn.o_proj.bias", [h])) }
            if c.qkNorm {
                specs.append((p + "self_attn.q_norm.weight", [c.headDim]))
                specs.append((p + "self_attn.k_norm.weight", [c.headDim]))
            }
            specs.append((p + "post_attention_layernorm.weight", [h]))
            specs.append((p + "mlp.gate_proj.weight", [i, h]))  // (I, C)
            if c.mlpBias { specs.append((p + "mlp.gate_proj.bias", [i])) }
            specs.append((p + "mlp.up_proj.weight", [i, h]))  // (I, C)
            if c.mlpBias { specs.append((p + "mlp.up_proj.bias", [i])) }
            specs.append((p + "mlp.down_proj.weight", [h, i]))  // (C, I)
            if c.mlpBias { specs.append((p + "mlp.down_proj.bias", [h])) }
        }
        specs.append(("model.norm.weight", [h]))
        if let labels = c.scoreLabels {
            specs.append(("score.weight", [labels, h]))  // (N, C): the sequence-classification head
        } else if !c.tieWordEmbeddings {
            specs.append(("lm_head.weight", [v, h]))  // (V, C)
        }
        self.specs = specs
    }

    public var parameterCount: Int { specs.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// The parameter count, or nil when it does not fit an Int (sizes from a hostile file).
    public var checkedParameterCount: Int? {
        var total = 0
        for (_, shape) in specs {
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                if overflow { return nil }
                count = product
            }
            let (sum, overflow) = total.addingReportingOverflow(count)
            if overflow { return nil }
            total = sum
        }
        return total
    }

    /// Whether a tensor is a norm weight or a bias (no weight decay, as Hugging Face's Trainer).
    public static func isNormOrBias(_ name: String) -> Bool {
        name.hasSuffix(".bias") || name.hasSuffix("norm.weight")
    }
}
