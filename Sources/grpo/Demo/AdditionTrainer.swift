import TensorCore

/// Supervised next-token training of a `TinyDecoder` on `AdditionTask`: cross-entropy on the answer
/// tokens, AdamW, global gradient-norm clipping and a cosine schedule with linear warmup.
final class AdditionTrainer {
    /// The optimisation settings; the defaults are the demo's.
    struct Settings {
        var totalSteps: Int
        var batchSize = 32
        var learningRate = 3e-3
        var weightDecay = 0.01
        var maxGradNorm = 1.0
        var warmupFraction = 0.05
    }

    let task: AdditionTask
    let model: TinyDecoder
    let settings: Settings
    private let optimizer: AdamW
    private let schedule: LearningRateSchedule
    /// Draws training problems; its own stream, so evaluation never shifts the data order.
    private var dataGenerator: SeededGenerator
    /// Optimizer steps taken so far.
    private(set) var step = 0

    /// The input tokens each step reads (B * T).
    var tokensPerStep: Int { settings.batchSize * (AdditionTask.sequenceLength - 1) }

    init(task: AdditionTask, model: TinyDecoder, settings: Settings, dataGenerator: SeededGenerator) {
        self.task = task
        self.model = model
        self.settings = settings
        self.dataGenerator = dataGenerator
        // As Hugging Face's Trainer: no weight decay on norm weights (the rank-1 tensors here).
        optimizer = AdamW(model.parameters, config: .init(weightDecay: settings.weightDecay),
                          decay: { $0.rank > 1 })
        let warmup = Int((Double(settings.totalSteps) * settings.warmupFraction).rounded())
        schedule = LearningRateSchedule(.cosine, warmupSteps: warmup, totalSteps: settings.totalSteps)
    }

    /// The learning rate the next step will use.
    var learningRate: Double { schedule.rate(settings.learningRate, step: step) }

    /// One optimizer step on a fresh batch; returns the batch's loss before the update.
    @discardableResult
    func trainStep() -> Float {
        model.parameters.zeroGrad()
        let batch = task.trainingBatch(size: settings.batchSize, using: &dataGenerator)
        let tape = Tape()
        let logits = model.forward(batch.ids, batch: batch.size, time: batch.time, tape: tape)  // (B, T, V)
        let loss = tape.crossEntropy(logits: logits, targets: batch.targets)                      // ()
        tape.backward(loss)
        model.parameters.clipGradNorm(maxNorm: settings.maxGradNorm)
        optimizer.update(lr: learningRate)
        step += 1
        return loss.scalar
    }

    /// Greedy completions of every held-out problem, scored by exact match.
    func evaluate() -> Evaluation {
        let problems = task.testProblems
        let completions = model.greedyContinuations(of: problems.map(AdditionTask.prompt),
                                                    maxNewTokens: AdditionTask.maxAnswerLength,
                                                    stop: AdditionTask.Token.end)
        return Evaluation(problems: problems, completions: completions)
    }

    /// Held-out problems with the model's greedy completions.
    struct Evaluation {
        let problems: [AdditionTask.Problem]
        let completions: [[Int32]]
        /// Whether each completion is exactly its problem's answer.
        let isCorrect: [Bool]

        init(problems: [AdditionTask.Problem], completions: [[Int32]]) {
            self.problems = problems
            self.completions = completions
            isCorrect = zip(completions, problems).map { AdditionTask.isCorrect($0, for: $1) }
        }

        var correctCount: Int { isCorrect.filter { $0 }.count }

        /// The fraction of exact matches, in [0, 1].
        var accuracy: Double { Double(correctCount) / Double(max(1, problems.count)) }
    }
}
