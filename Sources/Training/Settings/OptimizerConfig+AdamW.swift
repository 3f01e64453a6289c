import TensorCore
import Transformer

extension AdamW {
    /// AdamW over what a model trains (its parameters, or its LoRA adapters) as `config` sets it;
    /// norms and biases get no weight decay (as Hugging Face's Trainer).
    public convenience init(model: DecoderModel, _ config: OptimizerConfig) {
        self.init(model.trainable, config: .init(beta1: config.adamBeta1, beta2: config.adamBeta2, eps: config.adamEpsilon,
                                                  weightDecay: config.weightDecay),
                  decay: { !DecoderLayout.isNormOrBias($0.name) })
    }
}

extension OptimizerConfig {
    /// The learning-rate schedule over `totalSteps`.
    public func schedule(totalSteps: Int) -> LearningRateSchedule {
        LearningRateSchedule(schedule, warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// Clips the gradients (when max_grad_norm > 0) and returns their norm before clipping.
    public func clip(_ parameters: ParameterSet) -> Double {
        maxGradNorm > 0 ? parameters.clipGradNorm(maxNorm: maxGradNorm) : parameters.gradNorm()
    }
}
