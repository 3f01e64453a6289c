/// `grpo train ppo` settings, named as TRL's PPOConfig (trl.experimental.ppo, TRL 1.12) with its
/// defaults, except where noted: the shared training settings, the reward functions, and PPO's own.
public struct PPOConfig: TrainerSettings, Sendable, Equatable {
    public var training = TrainingConfig()
    public var rewards = RewardConfig()
    public var numPPOEpochs = 4
    public var numMiniBatches = 1
    public var math = PPOMath.Settings()
    public var loss = PPOLoss.Settings()
    /// New tokens per response at most.
    public var responseLength = 53
    public var temperature = 0.7
    /// "eos": a response ends at the tokenizer's end-of-sequence token; "none": every response is
    /// response_length tokens.
    public var stopToken = StopToken.eos
    /// Subtracted from the score of a response without the end-of-sequence token.
    public var missingEOSPenalty: Double? = nil
    /// A sequence-classification model folder to start the value model from (default: the policy
    /// with a new score head).
    public var valueModel: String? = nil
    public var evalNumSamples = 8
    public var evalTemperature: Double? = nil

    public enum StopToken: String, SettingChoice, Sendable {
        case eos, none
    }

    public init() {
        training.outputDir = "runs/ppo"
        training.batchSize = 64
        training.evalOnStart = true
        training.optimizer.learningRate = 3e-6
        training.optimizer.schedule = .linear
        // TRL's PPOTrainer never clips gradients (max_grad_norm is ignored there).
        training.optimizer.maxGradNorm = 0
    }

    public static var keys: [SettingKey<PPOConfig>] {
        TrainingConfig.keys.map { $0.lifted(\.training) } + [
            SettingKey("num_ppo_epochs", \.numPPOEpochs, help: "passes over each rollout batch", rule: .within(1...1000)),
            SettingKey("num_mini_batches", \.numMiniBatches, help: "optimizer steps per pass: the rollout batch (per_device_train_batch_size x "
                       + "gradient_accumulation_steps responses) split into this many mini-batches", rule: .within(1...65_536)),
            SettingKey("kl_coef", \.math.klCoef, help: "KL penalty coefficient: each token's reward is -kl_coef x KL to the reference", rule: .atLeast(0)),
            SettingKey("kl_estimator", \.math.klEstimator, help: "k1 (logp - ref) or k3 (exp(ref - logp) - 1 - (ref - logp))"),
            SettingKey("cliprange", \.loss.cliprange, help: "policy ratio clip: 1 +- cliprange", rule: SettingRule("in [0, 1)") { $0 >= 0 && $0 < 1 ? nil : "" }),
            SettingKey("vf_coef", \.loss.vfCoef, help: "value loss coefficient: loss = pg + vf_coef x vf", rule: .atLeast(0)),
            SettingKey("cliprange_value", \.loss.cliprangeValue, help: "value clip around the rollout's values", rule: .atLeast(0)),
            SettingKey("gamma", \.math.gamma, help: "discount factor of GAE", rule: .within(0...1)),
            SettingKey("lam", \.math.lam, help: "lambda of GAE", rule: .within(0...1)),
            SettingKey("whiten_rewards", \.math.whitenRewards, help: "whiten the per-token rewards over the rollout batch (mean kept)"),
            SettingKey("missing_eos_penalty", \.missingEOSPenalty, help: "subtracted from the score of a response that never ends",
                       rule: .atLeast(0)),
            SettingKey("response_length", \.responseLength, help: "new tokens per response at most", rule: .within(1...1_000_000)),
            SettingKey("temperature", \.temperature, help: "sampling temperature (logprobs use logits / (temperature + 1e-7), as TRL)",
                       rule: .positive),
            SettingKey("stop_token", \.stopToken, help: "eos: responses end at the end-of-sequence token; none: they run response_length tokens"),
            SettingKey("value_model", \.valueModel, help: "a sequence-classification model folder for the value model (default: the policy "
                       + "with a new score head)"),
            SettingKey("eval_num_samples", \.evalNumSamples, help: "k: samples per held-out prompt for pass@1, pass@k and maj@k",
                       rule: .within(1...1024)),
            SettingKey("eval_temperature", \.evalTemperature, help: "temperature of the held-out samples (default: temperature)", rule: .positive),
        ] + RewardConfig.keys.map { $0.lifted(\.rewards) }
    }

    /// Responses per rollout batch (TRL's local_batch_size).
    public var rolloutBatch: Int { training.batchSize * training.gradientAccumulationSteps }

    public func validate() throws {
        if rolloutBatch % numMiniBatches != 0 || (rolloutBatch / numMiniBatches) % training.batchSize != 0 {
            throw InvalidSetting("num_mini_batches", "\(numMiniBatches) does not split the \(rolloutBatch) responses of a rollout batch "
                                 + "into mini-batches of whole micro-batches of per_device_train_batch_size \(training.batchSize)")
        }
        try rewards.validate()
    }
}
