import ModelIO

/// Qwen3: per-head RMSNorm of queries and keys (q_norm, k_norm over head_dim) before RoPE, and
/// optional attention biases (`attention_bias`).
public enum Qwen3: ModelFamily {
    public static let modelType = "qwen3"
    public static let architecture = "Qwen3ForCausalLM"

    public static func config(from json: JSONConfig) throws -> DecoderConfig {
        try DecoderConfig.rejectSlidingWindow(json)
        var config = try DecoderConfig.common(json, modelType: modelType)
        let attentionBias = try json.optionalBool("attention_bias") ?? false
        config.qkvBias = attentionBias
        config.outputBias = attentionBias
        config.qkNorm = true
        return config
    }

    public static func configKeys(_ config: DecoderConfig) -> [String: Any] {
        ["attention_bias": config.qkvBias, "use_sliding_window": false]
    }
}
