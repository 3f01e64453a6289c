import TensorCore
import Transformer

/// The optimizer keys every trainer shares (transformers' TrainingArguments names), and the
/// AdamW, schedule and clipping they configure.
public struct OptimizerSettings: Sendable {
    public var learningRate: Double
    public var schedule: LearningRateSchedule.Kind
    public var warmupSteps: Int
    public var weightDecay: Double
    public var adamBeta1: Double, adamBeta2: Double, adamEpsilon: Double
    public var maxGradNorm: Double

    /// The keys, with a trainer's own defaults for the learning rate and schedule.
    static func keys(learningRate: Double, schedule: LearningRateSchedule.Kind) -> [ConfigKey] {
        [
            ConfigKey("learning_rate", .double, .double(learningRate), "peak learning rate"),
            ConfigKey("lr_scheduler_type", .choice(LearningRateSchedule.Kind.allCases.map(\.rawValue)), .string(schedule.rawValue),
                      "learning-rate schedule after warmup"),
            ConfigKey("warmup_steps", .int, .int(0), "linear warmup steps"),
            ConfigKey("weight_decay", .double, .double(0.0), "AdamW decoupled weight decay (not on norms and biases)"),
            ConfigKey("adam_beta1", .double, .double(0.9), "AdamW beta1"),
            ConfigKey("adam_beta2", .double, .double(0.999), "AdamW beta2"),
            ConfigKey("adam_epsilon", .double, .double(1e-8), "AdamW epsilon"),
            ConfigKey("max_grad_norm", .double, .double(1.0), "global gradient-norm clip (0 disables)"),
        ]
    }

    init(_ c: ResolvedConfig) throws {
        learningRate = c.double("learning_rate")
        schedule = LearningRateSchedule.Kind(rawValue: c.string("lr_scheduler_type")) ?? .constant
        warmupSteps = c.int("warmup_steps")
        weightDecay = c.double("weight_decay")
        adamBeta1 = c.double("adam_beta1")
        adamBeta2 = c.double("adam_beta2")
        adamEpsilon = c.double("adam_epsilon")
        maxGradNorm = c.double("max_grad_norm")
        if learningRate <= 0 { throw c.invalid("learning_rate", "must be positive, got \(learningRate)") }
        if warmupSteps < 0 { throw c.invalid("warmup_steps", "must be >= 0, got \(warmupSteps)") }
    }

    /// AdamW over a model's parameters; norms and biases get no weight decay (as Hugging Face's Trainer).
    func optimizer(for model: DecoderModel) -> AdamW {
        AdamW(model.parameters, config: .init(beta1: adamBeta1, beta2: adamBeta2, eps: adamEpsilon, weightDecay: weightDecay),
              decay: { !DecoderLayout.isNormOrBias($0.name) })
    }

    func learningRateSchedule(totalSteps: Int) -> LearningRateSchedule {
        LearningRateSchedule(schedule, warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// Clips the gradients (when max_grad_norm > 0) and returns their norm before clipping.
    func clip(_ parameters: ParameterSet) -> Double {
        maxGradNorm > 0 ? parameters.clipGradNorm(maxNorm: maxGradNorm) : parameters.gradNorm()
    }
}
