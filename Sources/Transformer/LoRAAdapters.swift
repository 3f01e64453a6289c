import TensorCore

/// LoRA adapters on a decoder's linear layers, as PEFT makes them (`LoraConfig` with
/// `init_lora_weights=True`): for each targeted layer W (Out, In) of each block, A (r, In) drawn
/// from kaiming_uniform(a = sqrt(5)), that is U(-1/sqrt(In), 1/sqrt(In)), and B (Out, r) zero, so
/// the adapted model starts equal to its base. Tensors are named as in PEFT's
/// `adapter_model.safetensors` (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`).
/// Legend: L layers, C hidden, I intermediate, H/Hkv heads, D head dim, r rank.
public final class LoRAAdapters {
    /// The linear layers of a block, by PEFT's target-module names.
    public enum Module: String, CaseIterable, Sendable {
        case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj", gate = "gate_proj", up = "up_proj", down = "down_proj"

        /// The module's path inside a block.
        var path: String {
            switch self {
            case .q, .k, .v, .o: return "self_attn." + rawValue
            case .gate, .up, .down: return "mlp." + rawValue
            }
        }

        /// PEFT's default targets for Llama, Qwen2 and Qwen3 (its TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING).
        public static let defaultTargets: [Module] = [.q, .v]
    }

    /// What PEFT's LoraConfig sets.
    public struct Spec: Sendable, Equatable {
        public var rank: Int
        public var alpha: Double
        /// rsLoRA's scaling alpha / sqrt(r) instead of alpha / r.
        public var useRSLoRA: Bool
        public var dropout: Double
        public var targets: [Module]

        public init(rank: Int = 16, alpha: Double = 32, useRSLoRA: Bool = false, dropout: Double = 0,
                    targets: [Module] = Module.defaultTargets) {
            self.rank = rank
            self.alpha = alpha
            self.useRSLoRA = useRSLoRA
            self.dropout = dropout
            self.targets = targets
        }

        public var scaling: Float { Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)) }
    }

    public let spec: Spec
    public let config: DecoderConfig
    /// The A and B tensors of every adapter, in PEFT's order (layer, then module as in the block).
    public let parameters: ParameterSet
    /// Training passes so far: the dropout masks' counter (a checkpoint stores it).
    public var passes: UInt64 = 0
    /// The seed the dropout masks are drawn from.
    public let dropoutSeed: UInt64
    /// Each block's A and B by module, looked up once here rather than by name on every pass.
    private let matrices: [[Module: (a: Tensor, b: Tensor)]]

    /// Zero-filled adapters for a model of `config` (load them, or `initialize`).
    public init(config: DecoderConfig, spec: Spec, dropoutSeed: UInt64 = 0) {
        self.spec = spec
        self.config = config
        self.dropoutSeed = dropoutSeed
        let parameters = ParameterSet(Self.layout(config, spec))
        self.parameters = parameters
        matrices = (0..<config.layerCount).map { l in
            Dictionary(uniqueKeysWithValues: spec.targets.compactMap { module in
                guard let a = parameters[Self.name(layer: l, module, "lora_A")],
                      let b = parameters[Self.name(layer: l, module, "lora_B")] else { return nil }
                return (module, (a, b))
            })
        }
    }

    /// The tensors' names and shapes: A (r, In) then B (Out, r) per targeted layer.
    static func layout(_ config: DecoderConfig, _ spec: Spec) -> [(name: String, shape: [Int])] {
        (0..<config.layerCount).flatMap { l in
            Module.allCases.filter(spec.targets.contains).flatMap { module -> [(name: String, shape: [Int])] in
                let (outF, inF) = shape(module, config)
                return [(name(layer: l, module, "lora_A"), [spec.rank, inF]), (name(layer: l, module, "lora_B"), [outF, spec.rank])]
            }
        }
    }

    /// (Out, In) of a module's weight.
    static func shape(_ module: Module, _ c: DecoderConfig) -> (Int, Int) {
        let (q, kv) = (c.headCount * c.headDim, c.kvHeadCount * c.headDim)
        switch module {
        case .q: return (q, c.hiddenSize)
        case .k, .v: return (kv, c.hiddenSize)
        case .o: return (c.hiddenSize, q)
        case .gate, .up: return (c.intermediateSize, c.hiddenSize)
        case .down: return (c.hiddenSize, c.intermediateSize)
        }
    }

    /// PEFT's saved name of a layer's A or B matrix ("lora_A" / "lora_B").
    public static func name(layer: Int, _ module: Module, _ matrix: String) -> String {
        "base_model.model.model.layers.\(layer).\(module.path).\(matrix).weight"
    }

    /// The name of the base weight an adapter tensor belongs to (`model.layers.0.self_attn.q_proj.weight`).
    public static func baseWeightName(layer: Int, _ module: Module) -> String { "model.layers.\(layer).\(module.path).weight" }

    /// A from kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(In), 1/sqrt(In)), B zero, as PEFT initialises them.
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for t in parameters.tensors {
            if t.name.hasSuffix("lora_A.weight") {
                let bound = 1 / Float(t.shape[1]).squareRoot()
                rng.fillUniform(t, -bound, bound)
            } else {
                t.storage.zero()
            }
        }
    }

    /// The dropout of one forward pass: none for passes that take no gradient (generation,
    /// evaluation, the old-policy and reference logprobs), else a fresh key per training pass.
    public struct Pass {
        let dropout: Float
        let key: UInt64
    }

    /// The next pass's dropout; a training pass advances `passes`.
    func nextPass(training: Bool) -> Pass {
        guard training && spec.dropout > 0 else { return Pass(dropout: 0, key: 0) }
        passes += 1
        return Pass(dropout: Float(spec.dropout), key: SeededGenerator(seed: dropoutSeed &+ passes).state[0])
    }

    /// The adapter of a block's module in a pass, or nil where the module is not targeted.
    func adapter(layer: Int, _ module: Module, _ pass: Pass) -> LoRAAdapter? {
        guard let (a, b) = matrices[layer][module] else { return nil }
        let key = pass.key ^ (UInt64(layer * Module.allCases.count + (Module.allCases.firstIndex(of: module) ?? 0)) &* 0xA24B_AED4_963E_E407)
        return LoRAAdapter(a: a, b: b, scaling: spec.scaling, dropout: pass.dropout, dropoutKey: key)
    }
}
