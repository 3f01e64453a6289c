import Foundation
import ModelIO
import TensorCore

/// Loading and saving Hugging Face model folders (config.json + safetensors).
public enum ModelCheckpoint {
    /// Tensors a checkpoint may hold that the model does not use (older rotary caches).
    static func isIgnorable(_ name: String) -> Bool { name.hasSuffix("rotary_emb.inv_freq") }

    /// Loads config.json and the weights of `directory`: every expected tensor must be present with
    /// its shape, and every tensor in the files must be used (a tied lm_head copy is accepted).
    public static func load(directory: URL) throws -> DecoderModel {
        let config = try ModelFamilies.config(at: directory.appendingPathComponent("config.json"))
        let reader = try CheckpointReader(directory: directory)
        let model = DecoderModel(config: config)
        var unused = Set(reader.names)
        for t in model.parameters.tensors {
            try reader.read(t.name, expectedShape: t.shape, into: t.data)
            unused.remove(t.name)
        }
        if config.tieWordEmbeddings { unused.remove("lm_head.weight") }
        unused = unused.filter { !isIgnorable($0) }
        if !unused.isEmpty {
            throw ModelIOError.unusedTensors(file: directory.path, tensors: unused.sorted())
        }
        return model
    }

    /// The config.json dictionary transformers reads back as this model (both the 4.x `rope_theta`
    /// and the 5.x `rope_parameters` keys are written).
    public static func configJSON(_ config: DecoderConfig) -> [String: Any] {
        let family = ModelFamilies.named(config.modelType)
        let architecture = family?.architecture ?? ""
        var json: [String: Any] = [
            "architectures": [config.scoreLabels == nil ? architecture
                                : architecture.replacingOccurrences(of: "ForCausalLM", with: "ForSequenceClassification")],
            "model_type": config.modelType,
            "vocab_size": config.vocabSize,
            "hidden_size": config.hiddenSize,
            "intermediate_size": config.intermediateSize,
            "num_hidden_layers": config.layerCount,
            "num_attention_heads": config.headCount,
            "num_key_value_heads": config.kvHeadCount,
            "head_dim": config.headDim,
            "hidden_act": "silu",
            "rms_norm_eps": Double(config.rmsNormEps),
            "rope_theta": Double(config.ropeTheta),
            "rope_parameters": ["rope_type": "default", "rope_theta": Double(config.ropeTheta)],
            "tie_word_embeddings": config.tieWordEmbeddings,
            "max_position_embeddings": config.maxPositionEmbeddings,
            "torch_dtype": "float32",
            "dtype": "float32",
            "use_cache": true,
        ]
        if let bos = config.bosTokenID { json["bos_token_id"] = bos }
        if !config.eosTokenIDs.isEmpty {
            json["eos_token_id"] = config.eosTokenIDs.count == 1 ? config.eosTokenIDs[0] : config.eosTokenIDs
        }
        if let pad = config.padTokenID { json["pad_token_id"] = pad }
        if let labels = config.scoreLabels {
            json["id2label"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("\($0)", "LABEL_\($0)") })
            json["label2id"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("LABEL_\($0)", $0) })
        }
        for (key, value) in family?.configKeys(config) ?? [:] { json[key] = value }
        return json
    }

    /// Files copied from the source folder when saving, if present.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "chat_template.jinja", "vocab.json", "merges.txt"]

    /// Writes a Hugging Face folder atomically: config.json, model.safetensors (fp32 or bf16),
    /// generation_config.json, and the tokenizer files of `tokenizerSource` if given.
    public static func save(_ model: DecoderModel, to directory: URL, dtype: SafeTensorsWriter.DType = .f32,
                            tokenizerSource: URL? = nil) throws {
        try AtomicFile.writeDirectory(at: directory) { temp in
            try writeContents(of: model, into: temp, dtype: dtype, tokenizerSource: tokenizerSource)
        }
    }

    /// Writes the files of a model folder into an existing (temporary) folder.
    public static func writeContents(of model: DecoderModel, into temp: URL, dtype: SafeTensorsWriter.DType,
                                     tokenizerSource: URL?) throws {
        try writeJSON(configJSON(model.config), to: temp.appendingPathComponent("config.json"))
        var generation: [String: Any] = ["_from_model_config": true]
        if let bos = model.config.bosTokenID { generation["bos_token_id"] = bos }
        if !model.config.eosTokenIDs.isEmpty {
            generation["eos_token_id"] = model.config.eosTokenIDs.count == 1 ? model.config.eosTokenIDs[0] : model.config.eosTokenIDs
        }
        try writeJSON(generation, to: temp.appendingPathComponent("generation_config.json"))
        let tensors = model.parameters.tensors.map { (name: $0.name, tensor: $0) }
        try SafeTensorsWriter.write(tensors, to: temp.appendingPathComponent("model.safetensors"), dtype: dtype)
        if let source = tokenizerSource { try copyTokenizerFiles(from: source, into: temp) }
    }

    /// Copies the tokenizer files that `source` has into `folder`.
    public static func copyTokenizerFiles(from source: URL, into folder: URL) throws {
        for file in tokenizerFiles {
            let from = source.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: from.path) {
                try FileManager.default.copyItem(at: from, to: folder.appendingPathComponent(file))
            }
        }
    }

    static func writeJSON(_ object: [String: Any], to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: url)
    }
}
