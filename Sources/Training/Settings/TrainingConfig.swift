import Rewards
import Tracking

/// The settings every trainer shares (model, data, output, seed, logging, evaluation, saving,
/// optimizer), named as transformers' TrainingArguments. Each trainer's config holds one and sets
/// its own defaults in its `init()`.
public struct TrainingConfig: Sendable, Equatable {
    /// The starting model: a Hugging Face folder (e.g. a checkpoint) or a .gguf file.
    public var model = ""
    public var outputDir = "runs/train"
    /// Start a new run in an output_dir that holds a run's checkpoints (they and its logs are
    /// removed); without it such a folder is refused unless the run resumes.
    public var overwriteOutputDir = false
    public var trainFile = ""
    public var evalFile: String? = nil
    public var maxSteps = 100
    /// Seconds of training (evaluation excluded) after which the run ends with a checkpoint; 0: no limit.
    public var maxTrainTime = 0.0
    public var batchSize = 16
    public var gradientAccumulationSteps = 1
    public var seed = 42
    public var loggingSteps = 1
    /// 0: evaluate only at the end (and at the start with `evalOnStart`).
    public var evalSteps = 0
    public var evalSamples = 200
    public var evalOnStart = false
    public var saveSteps = 100
    /// 0 keeps every checkpoint.
    public var saveTotalLimit = 2
    public var useChatTemplate = false
    /// How held-out completions are checked: a name in `Verifiers.names`, or "auto".
    public var verifier = "auto"
    /// Where metrics go: metrics.jsonl and TensorBoard event files by default.
    public var reportTo: [MetricsReport] = [.jsonl, .tensorboard]
    /// Steps in a row whose loss or gradient is not finite (each skipped) after which the run stops.
    public var maxNonfiniteSteps = 5
    /// Activation checkpointing of the trained models' decoder layers (`DecoderModel.gradientCheckpointing`).
    public var gradientCheckpointing = false
    public var optimizer = OptimizerConfig()
    public var lora = LoRAConfig()

    public init() {}

    public static var keys: [SettingKey<TrainingConfig>] {
        [
            SettingKey("model", \.model, help: "starting model: a Hugging Face folder (e.g. a checkpoint) or a .gguf file", rule: .required),
            SettingKey("output_dir", \.outputDir, help: "where checkpoints and metrics.jsonl go", rule: .required),
            SettingKey("overwrite_output_dir", \.overwriteOutputDir, help: "start a new run in an output_dir that holds a run's checkpoints, "
                       + "removing them and its logs (else such a folder is refused unless --resume)"),
            SettingKey("train_file", \.trainFile, help: "JSONL rows with `prompt` plus the columns the trainer reads", rule: .required),
            SettingKey("eval_file", \.evalFile, help: "JSONL rows held out for evaluation"),
            SettingKey("max_steps", \.maxSteps, help: "optimizer steps", rule: .within(1...100_000_000)),
            SettingKey("max_train_time", \.maxTrainTime, help: "end the run (with a checkpoint and an evaluation) after the step at which "
                       + "this many seconds of training (evaluation excluded; a resumed run counts on from its checkpoint) have passed; 0: no limit. "
                       + "For runs compared at equal time; "
                       + "the step it ends at depends on the machine", rule: .atLeast(0)),
            SettingKey("per_device_train_batch_size", \.batchSize, help: "sequences (completions) per mini-batch",
                       rule: .within(1...65_536)),
            SettingKey("gradient_accumulation_steps", \.gradientAccumulationSteps, help: "mini-batches per optimizer step",
                       rule: .within(1...65_536)),
            SettingKey("seed", \.seed, help: "seed for data order and sampling"),
            SettingKey("logging_steps", \.loggingSteps, help: "steps between metrics.jsonl lines (figures are averaged over them)",
                       rule: .atLeast(1)),
            SettingKey("eval_steps", \.evalSteps, help: "steps between held-out evaluations (0: only at the end)", rule: .atLeast(0)),
            SettingKey("eval_samples", \.evalSamples, help: "held-out rows per evaluation", rule: .within(0...1_000_000)),
            SettingKey("eval_on_start", \.evalOnStart, help: "evaluate before the first step"),
            SettingKey("save_steps", \.saveSteps, help: "steps between checkpoints (one is always written at the end)", rule: .atLeast(1)),
            SettingKey("save_total_limit", \.saveTotalLimit, help: "checkpoints kept (0 keeps all)", rule: .atLeast(0)),
            SettingKey("use_chat_template", \.useChatTemplate, help: "wrap prompts with the tokenizer's chat template"),
            SettingKey("verifier", \.verifier, help: "how held-out completions are checked against their row (auto: the first reward "
                       + "function that is a verifier, else math_answer)",
                       rule: SettingRule("(one of auto, \(AnswerVerifiers.names.joined(separator: ", ")))") {
                           $0 == "auto" || AnswerVerifiers.names.contains($0) ? nil : "unknown verifier"
                       }),
            SettingKey("report_to", \.reportTo, help: "where metrics go each logging step: jsonl (metrics.jsonl), tensorboard "
                       + "(events.out.tfevents.* in output_dir), or none",
                       rule: SettingRule("(none alone)") { $0.contains(.none) && $0.count > 1 ? "none cannot be combined" : nil }),
            SettingKey("max_nonfinite_steps", \.maxNonfiniteSteps, help: "a step whose loss or gradient is NaN or infinite is skipped "
                       + "(no optimizer update, counted in train/nonfinite_steps); this many in a row stop the run with an error",
                       rule: .within(1...1_000_000)),
            SettingKey("gradient_checkpointing", \.gradientCheckpointing, help: "keep only each decoder layer's input through the "
                       + "forward pass and run the layer again in backward: less activation memory for a second forward of each "
                       + "layer; the same gradients to the bit"),
        ] + OptimizerConfig.keys.map { $0.lifted(\.optimizer) } + LoRAConfig.keys.map { $0.lifted(\.lora) }
    }
}

/// AdamW, its schedule and gradient clipping (transformers' TrainingArguments names).
public struct OptimizerConfig: Sendable, Equatable {
    public var learningRate = 1e-5
    public var schedule = LearningRateSchedule.Kind.constant
    public var warmupSteps = 0
    public var weightDecay = 0.0
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    /// 0 disables clipping.
    public var maxGradNorm = 1.0

    public init() {}

    public static var keys: [SettingKey<OptimizerConfig>] {
        [
            SettingKey("learning_rate", \.learningRate, help: "peak learning rate", rule: .positive),
            SettingKey("lr_scheduler_type", \.schedule, help: "learning-rate schedule after warmup"),
            SettingKey("warmup_steps", \.warmupSteps, help: "linear warmup steps", rule: .atLeast(0)),
            SettingKey("weight_decay", \.weightDecay, help: "AdamW decoupled weight decay (not on norms and biases)", rule: .atLeast(0)),
            SettingKey("adam_beta1", \.adamBeta1, help: "AdamW beta1", rule: .unitInterval),
            SettingKey("adam_beta2", \.adamBeta2, help: "AdamW beta2", rule: .unitInterval),
            SettingKey("adam_epsilon", \.adamEpsilon, help: "AdamW epsilon", rule: .positive),
            SettingKey("max_grad_norm", \.maxGradNorm, help: "global gradient-norm clip (0 disables)", rule: .atLeast(0)),
        ]
    }
}

/// The reward functions of an RL trainer (GRPO, PPO) and how their failures are handled.
public struct RewardConfig: Sendable, Equatable {
    public var functions = ["math_answer"]
    /// Empty: every function weighs 1.
    public var weights: [Double] = []
    public var timeout = 10.0
    /// Steps in a row in which no completion could be judged before the run stops.
    public var maxUnjudgeableSteps = 5

    public init() {}

    public static var keys: [SettingKey<RewardConfig>] {
        [
            SettingKey("reward_funcs", \.functions, help: "reward functions by name (\(BuiltinRewards.names.joined(separator: ", ")); "
                       + "rm:PATH for a reward model folder)",
                       rule: SettingRule("(at least one)") { $0.isEmpty ? "no reward function" : nil }),
            SettingKey("reward_weights", \.weights, help: "one weight per reward function (default: all 1)"),
            SettingKey("reward_timeout", \.timeout, help: "seconds a reward call may take before its scores count as cannot-judge",
                       rule: .positive),
            SettingKey("max_unjudgeable_steps", \.maxUnjudgeableSteps,
                       help: "stop the run after this many steps in a row in which no completion could be judged (a reward that "
                       + "fails, times out or cannot read the rows)", rule: .atLeast(1)),
        ]
    }

    /// One weight per function.
    public var resolvedWeights: [Double] { weights.isEmpty ? functions.map { _ in 1 } : weights }

    /// The rules of every key and across keys (as a trainer's settings get them).
    public func check() throws {
        for key in Self.keys {
            if let reason = key.check(self) { throw SettingsError.badValue(source: "settings", key: key.name, reason: reason) }
        }
        do { try validate() } catch let error as InvalidSetting {
            throw SettingsError.invalid(source: "settings", key: error.key, reason: error.reason)
        }
    }

    func validate() throws {
        if !weights.isEmpty && weights.count != functions.count {
            throw InvalidSetting("reward_weights", "\(weights.count) weights for \(functions.count) reward functions")
        }
    }
}

/// How rollouts (completions of the policy) are sampled (TRL's GRPOConfig names).
public struct RolloutConfig: Sendable, Equatable {
    public var maxCompletionLength = 32
    public var temperature = 1.0
    public var topP = 1.0
    public var topK = 0
    public var minP = 0.0

    public init() {}

    public static var keys: [SettingKey<RolloutConfig>] {
        [
            SettingKey("max_completion_length", \.maxCompletionLength, help: "new tokens per completion at most",
                       rule: .within(1...1_000_000)),
            SettingKey("temperature", \.temperature, help: "sampling temperature (logprobs use logits / temperature, as TRL)",
                       rule: .positive),
            SettingKey("top_p", \.topP, help: "nucleus sampling threshold", rule: SettingRule("in (0, 1]") { $0 > 0 && $0 <= 1 ? nil : "" }),
            SettingKey("top_k", \.topK, help: "keep the k most likely tokens (0: all)", rule: .atLeast(0)),
            SettingKey("min_p", \.minP, help: "keep tokens at least min_p times the most likely one's probability", rule: .within(0...1)),
        ]
    }
}

extension LearningRateSchedule.Kind: SettingChoice {}
extension MetricsReport: SettingChoice {}

import TensorCore
import Transformer

extension TrainingConfig {
    /// Applies the settings that concern how trained models run (gradient_checkpointing) to each.
    /// Frozen models (references) run on inference tapes, where these settings change nothing.
    public func configureTrained(_ models: DecoderModel...) {
        for model in models { model.gradientCheckpointing = gradientCheckpointing }
    }

    /// The verifier `verifier` names; "auto": code when a reward function runs tests, else the first
    /// of `rewardFunctions` that is a verifier, else math_answer.
    public func resolvedVerifier(rewardFunctions: [String] = []) throws -> Verifier {
        let automatic = rewardFunctions.contains { $0.hasPrefix("code_tests") } ? "code"
            : rewardFunctions.first(where: Verifiers.names.contains) ?? "math_answer"
        return try AnswerVerifiers.named(verifier == "auto" ? automatic : verifier)
    }
}

import Tasks
