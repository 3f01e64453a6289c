import Foundation

/// `grpo train sft` settings. Keys follow TRL's SFTConfig / transformers' TrainingArguments names.
public struct SFTConfig: Sendable {
    public var model: String
    public var outputDir: String
    public var trainFile: String
    public var evalFile: String?
    public var maxSteps: Int
    public var batchSize: Int
    public var gradientAccumulationSteps: Int
    public var optimizer: OptimizerSettings
    public var maxLength: Int
    public var seed: Int
    public var loggingSteps: Int
    public var evalSteps: Int
    public var evalSamples: Int
    public var evalMaxNewTokens: Int
    /// End training at the first held-out evaluation whose greedy accuracy reaches this (0: never).
    public var stopAtEvalAccuracy: Double
    public var saveSteps: Int
    public var saveTotalLimit: Int
    public var useChatTemplate: Bool
    public var verifier: String
    public var resolved: ResolvedConfig

    public static let schema = ConfigSchema([
        ConfigKey("model", .string, .string(""), "model folder (Hugging Face layout) or .gguf file to start from"),
        ConfigKey("output_dir", .string, .string("runs/sft"), "where checkpoints and metrics.jsonl go"),
        ConfigKey("train_file", .string, .string(""), "JSONL with `prompt` and `completion` columns"),
        ConfigKey("eval_file", .optionalString, .none, "JSONL held out for loss and greedy accuracy (with `answer`)"),
        ConfigKey("max_steps", .int, .int(1000), "optimizer steps to take"),
        ConfigKey("per_device_train_batch_size", .int, .int(16), "sequences per micro-batch"),
        ConfigKey("gradient_accumulation_steps", .int, .int(1), "micro-batches per optimizer step"),
    ] + OptimizerSettings.keys(learningRate: 1e-3, schedule: .cosine) + [
        ConfigKey("max_length", .int, .int(256), "longest prompt + completion in tokens (longer rows are truncated)"),
        ConfigKey("seed", .int, .int(42), "seed for data order"),
        ConfigKey("logging_steps", .int, .int(10), "steps between metrics.jsonl lines"),
        ConfigKey("eval_steps", .int, .int(100), "steps between held-out evaluations (0: only at the end)"),
        ConfigKey("eval_samples", .int, .int(200), "held-out rows used per evaluation"),
        ConfigKey("eval_max_new_tokens", .int, .int(32), "generation budget of the greedy accuracy check"),
        ConfigKey("stop_at_eval_accuracy", .double, .double(0),
                  "end training (with a checkpoint) at the first evaluation whose greedy accuracy reaches this; 0: never"),
        ConfigKey("save_steps", .int, .int(500), "steps between checkpoints (one is always written at the end)"),
        ConfigKey("save_total_limit", .int, .int(2), "checkpoints kept (0 keeps all)"),
        ConfigKey("use_chat_template", .bool, .bool(false), "wrap prompts with the tokenizer's chat template"),
        ConfigKey("verifier", .choice(["math_answer", "countdown", "none"]), .string("math_answer"),
                  "how greedy completions are checked against the `answer` column"),
    ])

    public init(_ c: ResolvedConfig) throws {
        resolved = c
        model = c.string("model")
        outputDir = c.string("output_dir")
        trainFile = c.string("train_file")
        evalFile = c.optionalString("eval_file")
        maxSteps = c.int("max_steps")
        batchSize = c.int("per_device_train_batch_size")
        gradientAccumulationSteps = c.int("gradient_accumulation_steps")
        optimizer = try OptimizerSettings(c)
        maxLength = c.int("max_length")
        seed = c.int("seed")
        loggingSteps = c.int("logging_steps")
        evalSteps = c.int("eval_steps")
        evalSamples = c.int("eval_samples")
        evalMaxNewTokens = c.int("eval_max_new_tokens")
        stopAtEvalAccuracy = c.double("stop_at_eval_accuracy")
        saveSteps = c.int("save_steps")
        saveTotalLimit = c.int("save_total_limit")
        useChatTemplate = c.bool("use_chat_template")
        verifier = c.string("verifier")
        if model.isEmpty { throw c.invalid("model", "required") }
        if trainFile.isEmpty { throw c.invalid("train_file", "required") }
        for (key, value) in [("max_steps", maxSteps), ("per_device_train_batch_size", batchSize),
                             ("gradient_accumulation_steps", gradientAccumulationSteps), ("max_length", maxLength),
                             ("logging_steps", loggingSteps), ("save_steps", saveSteps)] where value < 1 {
            throw c.invalid(key, "must be at least 1, got \(value)")
        }
        if evalSteps < 0 || saveTotalLimit < 0 || evalSamples < 0 || evalMaxNewTokens < 1 {
            throw c.invalid("eval_steps/save_total_limit/eval_samples/eval_max_new_tokens", "out of range")
        }
        if !(0...1).contains(stopAtEvalAccuracy) {
            throw c.invalid("stop_at_eval_accuracy", "must be between 0 and 1, got \(stopAtEvalAccuracy)")
        }
        if stopAtEvalAccuracy > 0 && evalFile == nil {
            throw c.invalid("stop_at_eval_accuracy", "needs eval_file (held-out rows with an `answer` column)")
        }
    }
}
