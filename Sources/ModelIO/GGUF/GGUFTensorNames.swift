/// llama.cpp's tensor names (gguf-py's tensor map for the llama/qwen2/qwen3 graphs) and their
/// Hugging Face names, and the row permutation llama.cpp's converter applies to Llama's q/k.
public enum GGUFTensorNames {
    static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    /// `blk.N.<part>.{weight,bias}` -> `model.layers.N.<module>.{weight,bias}`.
    static let blockParts: [String: String] = [
        "attn_norm": "input_layernorm",
        "attn_q": "self_attn.q_proj",
        "attn_k": "self_attn.k_proj",
        "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj",
        "attn_q_norm": "self_attn.q_norm",
        "attn_k_norm": "self_attn.k_norm",
        "ffn_norm": "post_attention_layernorm",
        "ffn_gate": "mlp.gate_proj",
        "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    ]
    private static let modules = Dictionary(uniqueKeysWithValues: blockParts.map { ($1, $0) })
    private static let globalNames = Dictionary(uniqueKeysWithValues: global.map { ($1, $0) })

    /// The Hugging Face name of a llama.cpp tensor name, or nil for names outside the map.
    public static func huggingFace(_ name: String) -> String? {
        if let mapped = global[name] { return mapped }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = layerIndex(parts[1]),
              let module = blockParts[String(parts[2])], parts[3] == "weight" || parts[3] == "bias" else { return nil }
        return "model.layers.\(layer).\(module).\(parts[3])"
    }

    /// The llama.cpp name of a Hugging Face tensor name, or nil for names outside the map.
    public static func llamaCpp(_ name: String) -> String? {
        if let mapped = globalNames[name] { return mapped }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = layerIndex(rest[..<dot]),
              let last = rest.lastIndex(of: "."), last > dot else { return nil }
        let suffix = rest[rest.index(after: last)...]
        guard suffix == "weight" || suffix == "bias",
              let part = modules[String(rest[rest.index(after: dot)..<last])] else { return nil }
        return "blk.\(layer).\(part).\(suffix)"
    }

    /// A layer index written as plain decimal digits.
    private static func layerIndex(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// The head count by which llama.cpp's converter permuted this Hugging Face tensor's rows, or
    /// nil if it did not: Llama's q_proj (attention heads) and k_proj (kv heads), weights and biases.
    public static func permutationHeads(_ huggingFaceName: String, architecture: String, heads: Int, kvHeads: Int) -> Int? {
        guard architecture == "llama", huggingFaceName.hasPrefix("model.layers.") else { return nil }
        if huggingFaceName.hasSuffix(".self_attn.q_proj.weight") || huggingFaceName.hasSuffix(".self_attn.q_proj.bias") { return heads }
        if huggingFaceName.hasSuffix(".self_attn.k_proj.weight") || huggingFaceName.hasSuffix(".self_attn.k_proj.bias") { return kvHeads }
        return nil
    }

    /// Undoes the converter's permutation of the rows of a (heads * D, columns) matrix or a
    /// (heads * D) bias, in place.
    ///
    /// For Hugging Face's rotate-half RoPE the converter regroups each head's rows from the halves
    /// [x_0 .. x_{D/2-1}, y_0 .. y_{D/2-1}] into the pairs [x_0, y_0, x_1, y_1, ...] that ggml's
    /// interleaved RoPE expects: GGUF row h*D + 2i + j holds Hugging Face row h*D + j*D/2 + i.
    /// - returns: false, changing nothing, when the rows are not a multiple of 2 * heads.
    public static func unpermuteRows(_ data: UnsafeMutablePointer<Float>, rows: Int, columns: Int, heads: Int) -> Bool {
        guard heads > 0, rows % (2 * heads) == 0 else { return false }
        let d = rows / heads, half = d / 2
        let copy = Array(UnsafeBufferPointer(start: data, count: rows * columns))
        copy.withUnsafeBufferPointer { source in
            guard let src = source.baseAddress else { return }
            for h in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 {
                        let from = (h * d + 2 * i + j) * columns, to = (h * d + j * half + i) * columns
                        (data + to).update(from: src + from, count: columns)
                    }
                }
            }
        }
        return true
    }
}
