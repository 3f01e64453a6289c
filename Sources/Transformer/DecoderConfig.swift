import Foundation
import ModelIO

/// The shape and options of a Llama-style decoder, read from a Hugging Face config.json by the
/// family registered for its `model_type` (see `ModelFamily`).
public struct DecoderConfig: Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    public var tieWordEmbeddings: Bool
    /// Biases on q_proj, k_proj and v_proj (Qwen2; Llama and Qwen3 with attention_bias).
    public var qkvBias: Bool
    /// Bias on o_proj (Llama and Qwen3 with attention_bias).
    public var outputBias: Bool
    /// Biases on gate_proj, up_proj and down_proj (Llama's mlp_bias).
    public var mlpBias: Bool
    /// Per-head RMSNorm of queries and keys before RoPE (Qwen3).
    public var qkNorm: Bool
    public var maxPositionEmbeddings: Int
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]
    public var padTokenID: Int?
    /// nil: a causal LM (the LM head). N: a sequence-classification model whose `score` head
    /// (N, C) replaces the LM head and reads every position (transformers'
    /// AutoModelForSequenceClassification layout, `num_labels` N): PPO's value model, reward models.
    public var scoreLabels: Int?

    public init(modelType: String, vocabSize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
                headCount: Int, kvHeadCount: Int, headDim: Int? = nil, rmsNormEps: Float = 1e-6,
                ropeTheta: Float = 10_000, tieWordEmbeddings: Bool = false, qkvBias: Bool = false,
                outputBias: Bool = false, mlpBias: Bool = false, qkNorm: Bool = false,
                maxPositionEmbeddings: Int = 2048, bosTokenID: Int? = nil, eosTokenIDs: [Int] = [],
                padTokenID: Int? = nil, scoreLabels: Int? = nil) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim ?? hiddenSize / max(1, headCount)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.tieWordEmbeddings = tieWordEmbeddings
        self.qkvBias = qkvBias
        self.outputBias = outputBias
        self.mlpBias = mlpBias
        self.qkNorm = qkNorm
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
        self.padTokenID = padTokenID
        self.scoreLabels = scoreLabels
    }

    /// The same model with a `score` head of `labels` outputs in place of the LM head, and a pad
    /// token (the end-of-sequence token when it has none): transformers reads a sequence classifier
    /// at each row's last non-pad token.
    public func withScoreHead(labels: Int = 1) -> DecoderConfig {
        var c = self
        c.scoreLabels = labels
        c.padTokenID = padTokenID ?? eosTokenIDs.first
        return c
    }

    /// The parameter count.
    public var parameterCount: Int { DecoderLayout(self).parameterCount }

    /// Reads the fields every family shares (transformers 4.x and 5.x styles) and checks them.
    /// The family sets its own switches (biases, q/k norms) afterwards.
    static func common(_ json: JSONConfig, modelType: String) throws -> DecoderConfig {
        let hidden = try json.int("hidden_size"), heads = try json.int("num_attention_heads")
        var config = DecoderConfig(
            modelType: modelType,
            vocabSize: try json.int("vocab_size"),
            hiddenSize: hidden,
            intermediateSize: try json.int("intermediate_size"),
            layerCount: try json.int("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: try json.optionalInt("num_key_value_heads") ?? heads,
            headDim: try json.optionalInt("head_dim"),
            rmsNormEps: try rmsNormEps(json),
            ropeTheta: Float(try ropeTheta(json)),
            tieWordEmbeddings: try json.optionalBool("tie_word_embeddings") ?? false,
            maxPositionEmbeddings: try json.optionalInt("max_position_embeddings") ?? 2048,
            bosTokenID: try json.optionalInt("bos_token_id"),
            eosTokenIDs: try json.optionalIntList("eos_token_id") ?? [],
            padTokenID: try json.optionalInt("pad_token_id"))
        if try json.optionalStringList("architectures")?.contains(where: { $0.hasSuffix("ForSequenceClassification") }) == true {
            let labels = try json.optionalInt("num_labels") ?? json.optionalObject("id2label")?.count ?? 2
            guard (1...1_000_000).contains(labels) else {
                throw ModelIOError.config(file: json.file, field: "num_labels", reason: "must be in 1...1000000, got \(labels)")
            }
            config.scoreLabels = labels
        }
        if let act = try json.optionalString("hidden_act") ?? json.optionalString("hidden_activation"), act != "silu" {
            throw ModelIOError.unsupported(file: json.file, field: "hidden_act", value: "'\(act)' (only 'silu')")
        }
        let sizes = [("vocab_size", config.vocabSize), ("hidden_size", hidden), ("intermediate_size", config.intermediateSize),
                     ("num_hidden_layers", config.layerCount), ("num_attention_heads", heads),
                     ("num_key_value_heads", config.kvHeadCount), ("head_dim", config.headDim),
                     ("max_position_embeddings", config.maxPositionEmbeddings)]
        for (name, value) in sizes where value <= 0 {
            throw ModelIOError.config(file: json.file, field: name, reason: "must be positive, got \(value)")
        }
        try checkSizes(config, sizes: sizes, file: json.file)
        guard heads % config.kvHeadCount == 0 else {
            throw ModelIOError.config(file: json.file, field: "num_key_value_heads",
                                      reason: "\(config.kvHeadCount) does not divide num_attention_heads \(heads)")
        }
        guard config.headDim % 2 == 0 else {
            throw ModelIOError.config(file: json.file, field: "head_dim", reason: "RoPE needs an even head dimension, got \(config.headDim)")
        }
        return config
    }

    /// The largest dimension a config may give (vocab_size, hidden_size, ...): 2^24.
    public static let maxDimension = 1 << 24
    /// The most layers a config may give.
    public static let maxLayers = 1000

    /// Bounds the sizes a file gives before anything is allocated from them: every dimension at
    /// most `maxDimension`, at most `maxLayers` layers, and the fp32 parameters (counted with
    /// overflow checks) within `memoryBytes`, the machine's physical memory.
    static func checkSizes(_ config: DecoderConfig, sizes: [(String, Int)], file: String,
                           memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        for (name, value) in sizes where value > (name == "num_hidden_layers" ? maxLayers : maxDimension) {
            let limit = name == "num_hidden_layers" ? "\(maxLayers)" : "\(maxDimension) (2^24)"
            throw ModelIOError.config(file: file, field: name, reason: "must be at most \(limit), got \(value)")
        }
        let count = DecoderLayout(config).checkedParameterCount
        let bytes = count.map { $0.multipliedReportingOverflow(by: 4) }.flatMap { $0.overflow ? nil : $0.partialValue }
        guard let bytes, UInt64(bytes) <= memoryBytes else {
            let gib = { (b: UInt64) in String(format: "%.1f GiB", Double(b) / 1_073_741_824) }
            throw ModelIOError.config(file: file, field: "vocab_size, hidden_size, intermediate_size, num_hidden_layers",
                                      reason: "the model would have \(count.map(String.init) ?? "more than 2^63") parameters "
                                          + "(\(bytes.map { gib(UInt64($0)) } ?? "more than 2^63 bytes") in fp32), more than this "
                                          + "machine's \(gib(memoryBytes)) of physical memory (vocab_size \(config.vocabSize), "
                                          + "hidden_size \(config.hiddenSize), intermediate_size \(config.intermediateSize), "
                                          + "num_hidden_layers \(config.layerCount))")
        }
    }

    /// rope_theta from `rope_parameters` (5.x) or `rope_theta` (4.x), finite and positive. A RoPE
    /// type other than the default, in `rope_parameters` or `rope_scaling` (either may be present),
    /// is an error that names it: the unscaled rotation would give other logits than the model's.
    private static func ropeTheta(_ json: JSONConfig) throws -> Double {
        let parameters = try json.optionalObject("rope_parameters")
        for (field, object) in [("rope_parameters", parameters), ("rope_scaling", try json.optionalObject("rope_scaling"))] {
            guard let object else { continue }
            let type = try object.optionalString("rope_type") ?? object.optionalString("type") ?? "default"
            guard type == "default" else {
                throw ModelIOError.unsupported(file: json.file, field: "\(field).rope_type",
                                               value: "'\(type)' (only 'default'; scaled RoPE is not implemented)")
            }
        }
        let theta = try parameters?.optionalDouble("rope_theta") ?? json.optionalDouble("rope_theta") ?? 10_000
        guard theta > 0, Float(theta).isFinite else {
            throw ModelIOError.config(file: json.file, field: "rope_theta", reason: "must be a finite number > 0, got \(theta)")
        }
        return theta
    }

    /// `rms_norm_eps`: a float32 number >= 0 (1e-6 when absent).
    static func rmsNormEps(_ json: JSONConfig) throws -> Float {
        let eps = try json.optionalDouble("rms_norm_eps") ?? 1e-6
        guard eps >= 0, Float(eps).isFinite else {
            throw ModelIOError.config(file: json.file, field: "rms_norm_eps", reason: "must be a finite number >= 0, got \(eps)")
        }
        return Float(eps)
    }

    /// Rejects sliding-window attention, which these decoders do not implement.
    static func rejectSlidingWindow(_ json: JSONConfig) throws {
        if try json.optionalBool("use_sliding_window") == true {
            throw ModelIOError.unsupported(file: json.file, field: "use_sliding_window", value: "true")
        }
    }
}
