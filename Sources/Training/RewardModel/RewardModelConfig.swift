/// `grpo train rm` settings, named as TRL's RewardConfig (TRL 1.16) with its defaults where it has
/// them: the shared training settings plus the reward model's own.
public struct RewardModelConfig: TrainerSettings, Sendable, Equatable {
    public var training = TrainingConfig()
    /// Pairs whose chosen or rejected sequence is longer are dropped (TRL filters; it never truncates).
    public var maxLength = 1024
    /// Adds c * mean((r_chosen + r_rejected)^2) to the loss, pulling rewards toward zero mean (0: off).
    public var centerRewardsCoefficient = 0.0
    /// Standard deviation of the new score head when the model is a causal LM (transformers' initializer_range).
    public var scoreInitStd = 0.02

    public init() {
        training.outputDir = "runs/rm"
        training.batchSize = 8
        training.maxSteps = 500
        training.loggingSteps = 10
        training.evalSteps = 100
        training.saveSteps = 500
        training.optimizer.learningRate = 1e-4
        training.optimizer.schedule = .linear
    }

    public static var keys: [SettingKey<RewardModelConfig>] {
        TrainingConfig.keys.map { $0.lifted(\.training) } + [
            SettingKey("max_length", \.maxLength, help: "pairs with a longer chosen or rejected sequence (tokens, with the end token) are dropped",
                       rule: .within(2...1_000_000)),
            SettingKey("center_rewards_coefficient", \.centerRewardsCoefficient,
                       help: "adds this x mean((r_chosen + r_rejected)^2) to the loss (0: off)", rule: .atLeast(0)),
            SettingKey("score_init_std", \.scoreInitStd, help: "standard deviation of a new score head (when the model is a causal LM)",
                       rule: .positive),
        ]
    }

    public func validate() throws {
        if training.lora.usePeft {
            throw InvalidSetting("use_peft", "LoRA trains the policies of sft, grpo and ppo; a reward model trains its whole model and score head")
        }
    }
}
