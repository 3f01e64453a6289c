import ModelIO

/// Qwen2 / Qwen2.5: biases on q_proj, k_proj and v_proj (never on o_proj or the MLP).
public enum Qwen2: ModelFamily {
    public static let modelType = "qwen2"
    public static let architecture = "Qwen2ForCausalLM"

    public static func config(from json: JSONConfig) throws -> DecoderConfig {
        try DecoderConfig.rejectSlidingWindow(json)
        var config = try DecoderConfig.common(json, modelType: modelType)
        config.qkvBias = true
        return config
    }

    public static func configKeys(_ config: DecoderConfig) -> [String: Any] {
        ["use_sliding_window": false]
    }
}
