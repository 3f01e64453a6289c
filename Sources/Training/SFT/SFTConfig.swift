/// `grpo train sft` settings: the shared `TrainingConfig` (transformers' TrainingArguments names)
/// plus SFT's own (TRL's SFTConfig names where TRL has one).
public struct SFTConfig: TrainerSettings, Sendable, Equatable {
    public var training = TrainingConfig()
    /// Longest prompt + completion in tokens (longer rows are truncated: the prompt from the left,
    /// the completion from the right).
    public var maxLength = 256
    public var evalMaxNewTokens = 32
    /// End training at the first held-out evaluation whose greedy accuracy reaches this (0: never).
    public var stopAtEvalAccuracy = 0.0

    public init() {
        training.outputDir = "runs/sft"
        training.maxSteps = 1000
        training.batchSize = 16
        training.loggingSteps = 10
        training.evalSteps = 100
        training.saveSteps = 500
        training.optimizer.learningRate = 1e-3
        training.optimizer.schedule = .cosine
    }

    public static var keys: [SettingKey<SFTConfig>] {
        TrainingConfig.keys.map { $0.lifted(\.training) } + [
            SettingKey("max_length", \.maxLength, help: "longest prompt + completion in tokens (longer rows are truncated)",
                       rule: .within(2...1_000_000)),
            SettingKey("eval_max_new_tokens", \.evalMaxNewTokens, help: "generation budget of the greedy accuracy check",
                       rule: .within(1...1_000_000)),
            SettingKey("stop_at_eval_accuracy", \.stopAtEvalAccuracy,
                       help: "end training (with a checkpoint) at the first evaluation whose greedy accuracy reaches this; 0: never",
                       rule: .within(0...1)),
        ]
    }

    public func validate() throws {
        if stopAtEvalAccuracy > 0 && training.evalFile == nil {
            throw InvalidSetting("stop_at_eval_accuracy", "needs eval_file (held-out rows with an `answer` column)")
        }
    }
}
