import ModelIO

/// Llama (1-3): optional attention biases on all four projections (`attention_bias`) and MLP
/// biases (`mlp_bias`); untied embeddings unless the config ties them.
public enum Llama: ModelFamily {
    public static let modelType = "llama"
    public static let architecture = "LlamaForCausalLM"

    public static func config(from json: JSONConfig) throws -> DecoderConfig {
        var config = try DecoderConfig.common(json, modelType: modelType)
        let attentionBias = try json.optionalBool("attention_bias") ?? false
        config.qkvBias = attentionBias
        config.outputBias = attentionBias
        config.mlpBias = try json.optionalBool("mlp_bias") ?? false
        return config
    }

    public static func configKeys(_ config: DecoderConfig) -> [String: Any] {
        ["attention_bias": config.qkvBias, "mlp_bias": config.mlpBias]
    }
}
