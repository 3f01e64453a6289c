/// `grpo train grpo` settings, named as TRL's GRPOConfig (snake_case): the shared training,
/// sampling and reward settings plus GRPO's own.
public struct GRPOConfig: TrainerSettings, Sendable, Equatable {
    public var training = TrainingConfig()
    public var rollout = RolloutConfig()
    public var rewards = RewardConfig()
    /// G: completions per prompt.
    public var numGenerations = 8
    /// mu: optimizer steps per generation batch.
    public var numIterations = 1
    /// The loss (epsilon_high and max_completion_length are filled in by `policyLoss`).
    public var loss = PolicyLossConfig()
    /// nil: epsilon.
    public var epsilonHigh: Double? = nil
    public var scaleRewards = RewardScaling.group
    public var advantage = AdvantageKind.outcome
    public var maskTruncatedCompletions = false
    public var dynamicSampling = false
    public var maxDynamicSamplingRounds = 3
    /// Write every completion of each logged step to completions.jsonl.
    public var logCompletions = false
    /// 0: never.
    public var logCompletionsSteps = 25
    public var numCompletionsToPrint = 4
    public var evalNumSamples = 8
    /// nil: the sampling temperature.
    public var evalTemperature: Double? = nil

    /// Outcome rewards, or process supervision from a process reward's per-step scores.
    public enum AdvantageKind: String, SettingChoice, Sendable {
        case outcome, process
    }

    public init() {
        training.outputDir = "runs/grpo"
        training.batchSize = 64
        training.evalOnStart = true
    }

    public static var keys: [SettingKey<GRPOConfig>] {
        TrainingConfig.keys.map { $0.lifted(\.training) } + RolloutConfig.keys.map { $0.lifted(\.rollout) } + [
            SettingKey("num_generations", \.numGenerations, help: "G: completions sampled per prompt", rule: .within(2...4096)),
            SettingKey("num_iterations", \.numIterations, help: "mu: optimizer passes over each generation batch", rule: .within(1...1000)),
            SettingKey("beta", \.loss.beta, help: "KL coefficient to the frozen reference model (0: no reference model is kept)",
                       rule: .atLeast(0)),
            SettingKey("kl_estimator", \.loss.klEstimator, help: "KL estimator"),
            SettingKey("use_bias_correction_kl", \.loss.klBiasCorrection, help: "multiply the KL term by the importance ratio (TRL 1.16's default)"),
            SettingKey("epsilon", \.loss.epsilon, help: "lower clip: ratio >= 1 - epsilon", rule: SettingRule("in [0, 1)") { $0 >= 0 && $0 < 1 ? nil : "" }),
            SettingKey("epsilon_high", \.epsilonHigh, help: "upper clip: ratio <= 1 + epsilon_high (default: epsilon; DAPO's clip-higher uses 0.28)",
                       rule: .atLeast(0)),
            SettingKey("delta", \.loss.delta, help: "two-sided clip: the unclipped ratio is capped at delta", rule: .positive),
            SettingKey("importance_sampling_level", \.loss.importanceSampling, help: "token ratios, or one per completion (GSPO)"),
            SettingKey("loss_type", \.loss.lossType, help: "the per-token term and its aggregation, TRL 1.16 semantics (PolicyLoss.swift)"),
            SettingKey("sapo_temperature_pos", \.loss.sapoTemperaturePos, help: "sapo: the gate's temperature for positive advantages",
                       rule: .positive),
            SettingKey("sapo_temperature_neg", \.loss.sapoTemperatureNeg, help: "sapo: the gate's temperature for other advantages",
                       rule: .positive),
            SettingKey("vespo_k_pos", \.loss.vespoKPos, help: "vespo: k for non-negative advantages"),
            SettingKey("vespo_lambda_pos", \.loss.vespoLambdaPos, help: "vespo: lambda for non-negative advantages"),
            SettingKey("vespo_k_neg", \.loss.vespoKNeg, help: "vespo: k for negative advantages"),
            SettingKey("vespo_lambda_neg", \.loss.vespoLambdaNeg, help: "vespo: lambda for negative advantages"),
            SettingKey("scale_rewards", \.scaleRewards, help: "advantage std: per group, per batch, or none (Dr. GRPO)"),
            SettingKey("advantage", \.advantage, help: "outcome rewards, or process supervision from a process reward's per-step scores"),
            SettingKey("mask_truncated_completions", \.maskTruncatedCompletions, help: "completions that hit max_completion_length get no loss"),
            SettingKey("dynamic_sampling", \.dynamicSampling, help: "DAPO: drop groups whose rewards are all equal and sample more prompts"),
            SettingKey("max_dynamic_sampling_rounds", \.maxDynamicSamplingRounds, help: "extra sampling rounds at most per step when dynamic_sampling is on",
                       rule: .within(0...100)),
            SettingKey("log_completions", \.logCompletions,
                       help: "write each logged step's completions, with their rewards and advantages, to completions.jsonl"),
            SettingKey("log_completions_steps", \.logCompletionsSteps, help: "steps between printed tables of sample completions (0: never)",
                       rule: .atLeast(0)),
            SettingKey("num_completions_to_print", \.numCompletionsToPrint, help: "rows of the printed table of sample completions",
                       rule: .within(1...1000)),
            SettingKey("eval_num_samples", \.evalNumSamples, help: "k: samples per held-out prompt for pass@1, pass@k and maj@k",
                       rule: .within(1...1024)),
            SettingKey("eval_temperature", \.evalTemperature, help: "temperature of the held-out samples (default: temperature)", rule: .positive),
        ] + RewardConfig.keys.map { $0.lifted(\.rewards) }
    }

    /// P: prompts per generation batch = per_device_train_batch_size x gradient_accumulation_steps / G.
    public var promptsPerStep: Int { training.batchSize * training.gradientAccumulationSteps / numGenerations }

    /// The loss settings, with epsilon_high and max_completion_length filled in.
    public var policyLoss: PolicyLossConfig {
        var loss = self.loss
        loss.epsilonHigh = epsilonHigh ?? loss.epsilon
        loss.maxCompletionLength = rollout.maxCompletionLength
        return loss
    }

    public func validate() throws {
        let completions = training.batchSize * training.gradientAccumulationSteps
        if completions % numGenerations != 0 {
            throw InvalidSetting("num_generations", "\(numGenerations) does not divide the \(completions) completions of a generation batch "
                                 + "(per_device_train_batch_size x gradient_accumulation_steps)")
        }
        try rewards.validate()
    }
}

extension PolicyLossType: SettingChoice {}
extension ImportanceSamplingLevel: SettingChoice {}
extension KLEstimator: SettingChoice {}
extension RewardScaling: SettingChoice {}

import Rewards
