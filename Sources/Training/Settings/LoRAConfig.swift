import Transformer

/// LoRA settings, named as TRL's ModelConfig (`use_peft`, `lora_r`, ...) with its defaults; they
/// become PEFT's LoraConfig. With use_peft the base model is frozen and only the adapters train.
public struct LoRAConfig: Sendable, Equatable {
    public var usePeft = false
    public var rank = 16
    public var alpha = 32.0
    public var dropout = 0.05
    /// Empty: PEFT's default for the model family (q_proj, v_proj).
    public var targetModules: [String] = []
    public var useRSLoRA = false

    public init() {}

    public static var keys: [SettingKey<LoRAConfig>] {
        let names = LoRAAdapters.Module.allCases.map(\.rawValue)
        return [
            SettingKey("use_peft", \.usePeft, help: "train LoRA adapters on a frozen base (SFT, GRPO, PPO's policy); the reference "
                       + "policy is the base with the adapters off; checkpoints hold the adapters in PEFT's format"),
            SettingKey("lora_r", \.rank, help: "LoRA rank r", rule: .within(1...4096)),
            SettingKey("lora_alpha", \.alpha, help: "LoRA alpha: the update is scaled by alpha / r (alpha / sqrt(r) with use_rslora)",
                       rule: .positive),
            SettingKey("lora_dropout", \.dropout, help: "dropout on the adapters' inputs in training passes",
                       rule: SettingRule("in [0, 1)") { $0 >= 0 && $0 < 1 ? nil : "" }),
            SettingKey("lora_target_modules", \.targetModules, help: "layers that get adapters: names from \(names.joined(separator: ", ")), "
                       + "or all-linear; empty: PEFT's default (q_proj, v_proj)",
                       rule: SettingRule("(names of linear layers, or all-linear)") { list in
                           list.first { $0 != "all-linear" && !names.contains($0) }.map { "unknown module '\($0)'" }
                       }),
            SettingKey("use_rslora", \.useRSLoRA, help: "rank-stabilised LoRA: scale by alpha / sqrt(r)"),
        ]
    }

    /// The adapters' shape and scaling as PEFT's LoraConfig.
    public var spec: LoRAAdapters.Spec {
        let targets = targetModules.isEmpty ? LoRAAdapters.Module.defaultTargets
            : targetModules.contains("all-linear") ? LoRAAdapters.Module.allCases
            : LoRAAdapters.Module.allCases.filter { targetModules.contains($0.rawValue) }
        return LoRAAdapters.Spec(rank: rank, alpha: alpha, useRSLoRA: useRSLoRA, dropout: dropout, targets: targets)
    }
}
