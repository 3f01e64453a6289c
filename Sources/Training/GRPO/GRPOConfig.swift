import Foundation

/// `grpo train grpo` settings, named as TRL's GRPOConfig (snake_case), plus the run's data and
/// reward choices.
public struct GRPOConfig: Sendable {
    public var model: String
    public var outputDir: String
    public var trainFile: String
    public var evalFile: String?
    public var maxSteps: Int
    /// Completions per mini-batch (TRL's per_device_train_batch_size).
    public var batchSize: Int
    /// P: prompts per generation batch = batchSize x gradientAccumulationSteps / G.
    public var promptsPerStep: Int { batchSize * gradientAccumulationSteps / numGenerations }
    /// G: completions per prompt.
    public var numGenerations: Int
    public var maxCompletionLength: Int
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var minP: Double
    public var optimizer: OptimizerSettings
    public var gradientAccumulationSteps: Int
    public var numIterations: Int
    public var loss: PolicyLossConfig
    public var scaleRewards: RewardScaling
    public var processAdvantages: Bool
    public var maskTruncatedCompletions: Bool
    public var dynamicSampling: Bool
    public var maxDynamicSamplingRounds: Int
    public var rewardFunctions: [String]
    public var rewardWeights: [Double]
    public var rewardTimeout: Double
    public var seed: Int
    public var loggingSteps: Int
    public var logCompletionsSteps: Int
    public var evalSteps: Int
    public var evalSamples: Int
    public var evalNumSamples: Int
    /// Sampling temperature of the held-out pass@k and maj@k samples.
    public var evalTemperature: Double
    public var saveSteps: Int
    public var saveTotalLimit: Int
    public var useChatTemplate: Bool
    public var resolved: ResolvedConfig

    public static let schema = ConfigSchema([
        ConfigKey("model", .string, .string(""), "starting policy: a model folder (e.g. an SFT checkpoint) or .gguf file"),
        ConfigKey("output_dir", .string, .string("runs/grpo"), "where checkpoints and metrics.jsonl go"),
        ConfigKey("train_file", .string, .string(""), "JSONL with `prompt` plus the columns the rewards read (`answer`, ...)"),
        ConfigKey("eval_file", .optionalString, .none, "JSONL held out for pass@1 / pass@k / maj@k / greedy accuracy"),
        ConfigKey("max_steps", .int, .int(100), "optimizer steps"),
        ConfigKey("per_device_train_batch_size", .int, .int(64), "completions per mini-batch; a generation batch is this x gradient_accumulation_steps completions (P = that / G prompts)"),
        ConfigKey("num_generations", .int, .int(8), "G: completions sampled per prompt"),
        ConfigKey("max_completion_length", .int, .int(32), "new tokens per completion at most"),
        ConfigKey("temperature", .double, .double(1.0), "sampling temperature (logprobs use logits / temperature, as TRL)"),
        ConfigKey("top_p", .double, .double(1.0), "nucleus sampling threshold"),
        ConfigKey("top_k", .int, .int(0), "keep the k most likely tokens (0: all)"),
        ConfigKey("min_p", .double, .double(0.0), "keep tokens at least min_p times the most likely one's probability"),
    ] + OptimizerSettings.keys(learningRate: 1e-5, schedule: .constant) + [
        ConfigKey("gradient_accumulation_steps", .int, .int(1), "mini-batches per optimizer step; one generation batch feeds one step per iteration"),
        ConfigKey("num_iterations", .int, .int(1), "mu: optimizer passes over each generation batch"),
        ConfigKey("beta", .double, .double(0.0), "KL coefficient to the frozen reference model (0: no reference model is loaded)"),
        ConfigKey("kl_estimator", .choice(["k1", "k2", "k3"]), .string("k3"), "KL estimator"),
        ConfigKey("use_bias_correction_kl", .bool, .bool(true), "multiply the KL term by the importance ratio (TRL 1.16's default)"),
        ConfigKey("epsilon", .double, .double(0.2), "lower clip: ratio >= 1 - epsilon"),
        ConfigKey("epsilon_high", .optionalDouble, .none, "upper clip: ratio <= 1 + epsilon_high (default: epsilon; DAPO's clip-higher uses 0.28)"),
        ConfigKey("delta", .optionalDouble, .none, "two-sided clip: the unclipped ratio is capped at delta"),
        ConfigKey("importance_sampling_level", .choice(["token", "sequence"]), .string("token"), "token ratios, or one per completion (GSPO)"),
        ConfigKey("loss_type", .choice(["grpo", "bnpo", "dr_grpo", "dapo"]), .string("dapo"), "loss aggregation, TRL semantics"),
        ConfigKey("scale_rewards", .choice(["group", "batch", "none"]), .string("group"), "advantage std: per group, per batch, or none (Dr. GRPO)"),
        ConfigKey("advantage", .choice(["outcome", "process"]), .string("outcome"), "outcome rewards, or process supervision from per-step rewards"),
        ConfigKey("mask_truncated_completions", .bool, .bool(false), "completions that hit max_completion_length get no loss"),
        ConfigKey("dynamic_sampling", .bool, .bool(false), "DAPO: drop groups whose rewards are all equal and sample more prompts"),
        ConfigKey("max_dynamic_sampling_rounds", .int, .int(3), "extra sampling rounds at most per step when dynamic_sampling is on"),
        ConfigKey("reward_funcs", .strings, .strings(["math_answer"]), "reward functions by name"),
        ConfigKey("reward_weights", .doubles, .doubles([]), "one weight per reward function (default: all 1)"),
        ConfigKey("reward_timeout", .double, .double(10.0), "seconds a reward call may take before it counts as cannot-judge"),
        ConfigKey("seed", .int, .int(42), "seed for data order and sampling"),
        ConfigKey("logging_steps", .int, .int(1), "steps between metrics.jsonl lines"),
        ConfigKey("log_completions_steps", .int, .int(25), "steps between printed tables of sample completions (0: never)"),
        ConfigKey("eval_steps", .int, .int(0), "steps between held-out evaluations (0: only before and after)"),
        ConfigKey("eval_samples", .int, .int(200), "held-out prompts per evaluation"),
        ConfigKey("eval_num_samples", .int, .int(8), "k: samples per held-out prompt for pass@1, pass@k and maj@k"),
        ConfigKey("eval_temperature", .optionalDouble, .none, "temperature of the held-out samples (default: temperature)"),
        ConfigKey("save_steps", .int, .int(100), "steps between checkpoints (one is always written at the end)"),
        ConfigKey("save_total_limit", .int, .int(2), "checkpoints kept (0 keeps all)"),
        ConfigKey("use_chat_template", .bool, .bool(false), "wrap prompts with the tokenizer's chat template"),
    ])

    public init(_ c: ResolvedConfig) throws {
        resolved = c
        model = c.string("model")
        outputDir = c.string("output_dir")
        trainFile = c.string("train_file")
        evalFile = c.optionalString("eval_file")
        maxSteps = c.int("max_steps")
        batchSize = c.int("per_device_train_batch_size")
        numGenerations = c.int("num_generations")
        maxCompletionLength = c.int("max_completion_length")
        temperature = c.double("temperature")
        topP = c.double("top_p")
        topK = c.int("top_k")
        minP = c.double("min_p")
        optimizer = try OptimizerSettings(c)
        gradientAccumulationSteps = c.int("gradient_accumulation_steps")
        numIterations = c.int("num_iterations")
        var loss = PolicyLossConfig()
        loss.beta = c.double("beta")
        loss.klEstimator = KLEstimator(rawValue: c.string("kl_estimator"))!
        loss.klBiasCorrection = c.bool("use_bias_correction_kl")
        loss.epsilon = c.double("epsilon")
        loss.epsilonHigh = c.optionalDouble("epsilon_high") ?? loss.epsilon
        loss.delta = c.optionalDouble("delta")
        loss.importanceSampling = ImportanceSamplingLevel(rawValue: c.string("importance_sampling_level"))!
        loss.lossType = PolicyLossType(rawValue: c.string("loss_type"))!
        loss.maxCompletionLength = maxCompletionLength
        self.loss = loss
        scaleRewards = RewardScaling(rawValue: c.string("scale_rewards"))!
        processAdvantages = c.string("advantage") == "process"
        maskTruncatedCompletions = c.bool("mask_truncated_completions")
        dynamicSampling = c.bool("dynamic_sampling")
        maxDynamicSamplingRounds = c.int("max_dynamic_sampling_rounds")
        rewardFunctions = c.strings("reward_funcs")
        rewardWeights = c.doubles("reward_weights")
        rewardTimeout = c.double("reward_timeout")
        seed = c.int("seed")
        loggingSteps = c.int("logging_steps")
        logCompletionsSteps = c.int("log_completions_steps")
        evalSteps = c.int("eval_steps")
        evalSamples = c.int("eval_samples")
        evalNumSamples = c.int("eval_num_samples")
        evalTemperature = c.optionalDouble("eval_temperature") ?? temperature
        saveSteps = c.int("save_steps")
        saveTotalLimit = c.int("save_total_limit")
        useChatTemplate = c.bool("use_chat_template")
        try validate()
    }

    func validate() throws {
        let c = resolved
        if model.isEmpty { throw c.invalid("model", "required") }
        if trainFile.isEmpty { throw c.invalid("train_file", "required") }
        for (key, value) in [("max_steps", maxSteps), ("per_device_train_batch_size", batchSize), ("max_completion_length", maxCompletionLength),
                             ("gradient_accumulation_steps", gradientAccumulationSteps), ("num_iterations", numIterations),
                             ("logging_steps", loggingSteps), ("save_steps", saveSteps), ("eval_num_samples", evalNumSamples)] where value < 1 {
            throw c.invalid(key, "must be at least 1, got \(value)")
        }
        if numGenerations < 2 { throw c.invalid("num_generations", "GRPO needs at least 2 completions per prompt, got \(numGenerations)") }
        if (batchSize * gradientAccumulationSteps) % numGenerations != 0 {
            throw c.invalid("num_generations", "\(numGenerations) does not divide the \(batchSize * gradientAccumulationSteps) completions of a generation batch (per_device_train_batch_size x gradient_accumulation_steps)")
        }
        if temperature <= 0 { throw c.invalid("temperature", "must be positive for GRPO sampling, got \(temperature)") }
        if evalTemperature <= 0 { throw c.invalid("eval_temperature", "must be positive, got \(evalTemperature)") }
        if rewardFunctions.isEmpty { throw c.invalid("reward_funcs", "needs at least one reward function") }
        if !rewardWeights.isEmpty && rewardWeights.count != rewardFunctions.count {
            throw c.invalid("reward_weights", "\(rewardWeights.count) weights for \(rewardFunctions.count) reward functions")
        }
        if loss.epsilon < 0 || loss.epsilon >= 1 || loss.epsilonHigh < 0 { throw c.invalid("epsilon", "out of range") }
        if loss.beta < 0 { throw c.invalid("beta", "must be >= 0, got \(loss.beta)") }
    }

    /// One weight per reward function.
    public var weights: [Double] { rewardWeights.isEmpty ? rewardFunctions.map { _ in 1 } : rewardWeights }
}
