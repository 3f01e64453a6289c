import Foundation
import ModelIO

/// Loading decoders from GGUF files (llama.cpp's format): the config from `general.architecture`
/// and `<arch>.*` metadata, the weights dequantised to fp32 under their Hugging Face names.
public enum GGUFModel {
    /// The GGUF architectures this loader reads, and the `model_type` each becomes.
    public static let architectures = ["llama", "qwen2", "qwen3"]

    /// Loads a GGUF model: every expected tensor must be present with its shape, and every tensor
    /// in the file must be used.
    public static func load(url: URL) throws -> DecoderModel {
        let checkpoint = try GGUFCheckpoint(url: url)
        let config = try config(checkpoint)
        // Every tensor is checked before the model is allocated, so corrupt sizes in the metadata
        // fail here instead of asking for absurd amounts of memory.
        guard config.layerCount <= checkpoint.file.tensors.count else {
            throw ModelIOError.config(file: url.path, field: "\(config.modelType).block_count",
                                      reason: "\(config.layerCount) layers, but the file has \(checkpoint.file.tensors.count) tensors")
        }
        for (name, shape) in DecoderLayout(config).specs { try checkpoint.check(name, expectedShape: shape) }
        let model = DecoderModel(config: config)
        var unused = Set(checkpoint.names)
        for t in model.parameters.tensors {
            try checkpoint.read(t.name, expectedShape: t.shape, into: t.data)
            unused.remove(t.name)
        }
        if !unused.isEmpty {
            throw ModelIOError.unusedTensors(file: url.path, tensors: unused.sorted())
        }
        return model
    }

    /// The decoder config of a GGUF model, checked by the family of its architecture.
    public static func config(_ checkpoint: GGUFCheckpoint) throws -> DecoderConfig {
        let json = try configJSON(checkpoint)
        // A JSON round trip gives the values the same types a config.json read from disk has.
        let data = try JSONSerialization.data(withJSONObject: json)
        guard let values = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let family = ModelFamilies.named(checkpoint.architecture) else {
            throw ModelIOError.unsupported(file: checkpoint.file.url.path, field: "general.architecture", value: checkpoint.architecture)
        }
        return try family.config(from: JSONConfig(file: checkpoint.file.url.path, values: values))
    }

    /// The Hugging Face config.json keys equivalent to a GGUF model's metadata (as transformers
    /// maps them); `tie_word_embeddings` when there is no `output.weight`, the vocabulary size from
    /// the embedding's rows, bias switches from the tensors present, and `eos_token_id` listing the
    /// end-of-turn token (`tokenizer.ggml.eot_token_id`) too when the file has a different one.
    public static func configJSON(_ checkpoint: GGUFCheckpoint) throws -> [String: Any] {
        let file = checkpoint.file, arch = checkpoint.architecture, path = file.url.path
        guard architectures.contains(arch) else {
            let known = architectures.map { "'\($0)'" }.joined(separator: ", ")
            throw ModelIOError.unsupported(file: path, field: "general.architecture", value: "'\(arch)' (supported: \(known))")
        }
        let p = arch + "."
        if let scaling = try file.optionalString(p + "rope.scaling.type"), scaling != "none" {
            throw ModelIOError.unsupported(file: path, field: p + "rope.scaling.type", value: "'\(scaling)' (only 'none')")
        }
        if file.info("rope_freqs.weight") != nil {
            throw ModelIOError.unsupported(file: path, field: "rope scaling", value: "factors (tensor 'rope_freqs.weight')")
        }
        guard let embedding = checkpoint.info("model.embed_tokens.weight"), embedding.shape.count == 2 else {
            throw ModelIOError.missingTensor(file: path, tensor: "token_embd.weight")
        }
        let heads = try file.int(p + "attention.head_count")
        guard let eps = try file.optionalDouble(p + "attention.layer_norm_rms_epsilon") else {
            throw ModelIOError.config(file: path, field: p + "attention.layer_norm_rms_epsilon", reason: "missing")
        }
        var json: [String: Any] = [
            "model_type": arch,
            "hidden_act": "silu",
            "vocab_size": embedding.shape[0],
            "hidden_size": try file.int(p + "embedding_length"),
            "intermediate_size": try file.int(p + "feed_forward_length"),
            "num_hidden_layers": try file.int(p + "block_count"),
            "num_attention_heads": heads,
            "num_key_value_heads": try file.optionalInt(p + "attention.head_count_kv") ?? heads,
            "rms_norm_eps": eps,
            "rope_theta": try file.optionalDouble(p + "rope.freq_base") ?? 10_000,
            "max_position_embeddings": try file.int(p + "context_length"),
            "tie_word_embeddings": checkpoint.info("lm_head.weight") == nil,
        ]
        if let headDim = try file.optionalInt(p + "attention.key_length") {
            json["head_dim"] = headDim
            if let valueDim = try file.optionalInt(p + "attention.value_length"), valueDim != headDim {
                throw ModelIOError.unsupported(file: path, field: p + "attention.value_length",
                                               value: "\(valueDim) (must equal attention.key_length \(headDim))")
            }
        }
        let headDim = json["head_dim"] as? Int ?? (json["hidden_size"] as? Int ?? 0) / max(heads, 1)
        if let rotary = try file.optionalInt(p + "rope.dimension_count"), rotary != headDim {
            throw ModelIOError.unsupported(file: path, field: p + "rope.dimension_count",
                                           value: "\(rotary) (partial rotary; must equal the head dimension \(headDim))")
        }
        if arch != "qwen2" {
            json["attention_bias"] = checkpoint.info("model.layers.0.self_attn.q_proj.bias") != nil
            json["mlp_bias"] = checkpoint.info("model.layers.0.mlp.gate_proj.bias") != nil
        }
        let t = "tokenizer.ggml."
        if let bos = try file.optionalInt(t + "bos_token_id") { json["bos_token_id"] = bos }
        // End of generation, as llama.cpp decides it: eos and, when different, end-of-turn.
        let stops = try [file.optionalInt(t + "eos_token_id"), file.optionalInt(t + "eot_token_id")].compactMap { $0 }
        if !stops.isEmpty { json["eos_token_id"] = stops[0] == stops.last ? [stops[0]] : stops }
        if let pad = try file.optionalInt(t + "padding_token_id") { json["pad_token_id"] = pad }
        return json
    }
}
