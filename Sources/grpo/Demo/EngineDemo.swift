import ArgumentParser
import Foundation
import TensorCore

/// `grpo demo engine`: trains a tiny Llama-style decoder on 3-digit addition with the TensorCore
/// engine, printing the loss as it falls and the greedy exact-match accuracy on held-out problems.
struct EngineDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Train a tiny transformer on 3-digit addition and report loss and held-out accuracy."
    )

    @Option(help: "Optimizer steps of 32 sequences each.")
    var steps = 12_000

    @Option(help: "Seed for initialisation, data order and the held-out split.")
    var seed: UInt64 = 0

    @Option(help: "Hidden size: a multiple of 8 (4 heads of an even size), up to 1024.")
    var hidden = 64

    @Option(help: "Number of decoder layers, 1 to 16.")
    var layers = 2

    @Option(help: "Steps between progress lines.")
    var logEvery = 50

    /// Held-out problems, excluded from training.
    static let testCount = 200
    /// Runs this long or longer also report the held-out accuracy halfway.
    static let midwayEvaluationSteps = 200

    func validate() throws {
        guard (1...1_000_000).contains(steps) else {
            throw ValidationError("--steps must be between 1 and 1000000, got \(steps)")
        }
        guard (8...1024).contains(hidden), hidden % 8 == 0 else {
            throw ValidationError("--hidden must be a multiple of 8 between 8 and 1024, got \(hidden)")
        }
        guard (1...16).contains(layers) else {
            throw ValidationError("--layers must be between 1 and 16, got \(layers)")
        }
        guard logEvery >= 1 else {
            throw ValidationError("--log-every must be at least 1, got \(logEvery)")
        }
    }

    func run() throws {
        let start = ContinuousClock.now
        let trainer = makeTrainer()
        printSetup(trainer)
        let losses = train(trainer)
        let evaluation = trainer.evaluate()
        printSamples(evaluation, count: 5)
        print(String(format: "loss: first step %.4f -> last step %.4f (mean of the last %d: %.4f)",
                     losses.first ?? .nan, losses.last ?? .nan, logEvery, mean(losses.suffix(logEvery))))
        printAccuracy(evaluation, label: "final")
        print(String(format: "wall time %.1f s", seconds(ContinuousClock.now - start)))
    }

    /// The task, model and trainer, each with its own generator derived from `seed`.
    private func makeTrainer() -> AdditionTrainer {
        var root = SeededGenerator(seed: seed)
        var testGenerator = SeededGenerator(seed: root.next())
        var initGenerator = SeededGenerator(seed: root.next())
        let dataGenerator = SeededGenerator(seed: root.next())
        let task = AdditionTask(testCount: Self.testCount, generator: &testGenerator)
        let config = TinyDecoder.Config(vocabSize: AdditionTask.Token.vocabularySize, hiddenSize: hidden,
                                        numHiddenLayers: layers, intermediateSize: 3 * hidden)
        let model = TinyDecoder(config: config, generator: &initGenerator)
        return AdditionTrainer(task: task, model: model, settings: .init(totalSteps: steps),
                               dataGenerator: dataGenerator)
    }

    /// Runs every step, printing a progress line every `logEvery` steps and the held-out accuracy
    /// halfway; returns each step's loss.
    private func train(_ trainer: AdditionTrainer) -> [Float] {
        var losses: [Float] = []
        var windowStart = 0, windowTime = Duration.zero
        for _ in 0..<steps {
            let learningRate = trainer.learningRate
            let stepStart = ContinuousClock.now
            losses.append(trainer.trainStep())
            windowTime += ContinuousClock.now - stepStart
            let step = trainer.step
            if step == 1 || step % logEvery == 0 || step == steps {
                let window = losses[windowStart...]
                let tokensPerSecond = Double(window.count * trainer.tokensPerStep) / seconds(windowTime)
                print(String(format: "step %5d/%d  loss %.4f  lr %.2e  tokens/s %6.0f",
                             step, steps, mean(window), learningRate, tokensPerSecond))
                (windowStart, windowTime) = (losses.count, .zero)
            }
            if step == steps / 2 && steps >= Self.midwayEvaluationSteps {
                printAccuracy(trainer.evaluate(), label: "midway")
            }
        }
        return losses
    }

    private func printSetup(_ trainer: AdditionTrainer) {
        let c = trainer.model.config, s = trainer.settings
        print("task: 3-digit addition, \(trainer.task.testProblems.count) held-out problems, "
              + "\(AdditionTask.sequenceLength - 1) tokens per sequence")
        print("model: hidden \(c.hiddenSize), \(c.numHiddenLayers) layers, \(c.numAttentionHeads) heads, "
              + "\(c.numKeyValueHeads) kv heads, intermediate \(c.intermediateSize), "
              + "\(trainer.model.parameters.count) parameters")
        print("training: \(s.totalSteps) steps of \(s.batchSize) sequences, AdamW lr \(s.learningRate) "
              + "(cosine, warmup \(Int(s.warmupFraction * 100))%), weight decay \(s.weightDecay), "
              + "clip \(s.maxGradNorm), seed \(seed)")
        print("(loss: mean answer-token cross-entropy over the steps since the previous line)")
    }

    private func printSamples(_ evaluation: AdditionTrainer.Evaluation, count: Int) {
        for (i, problem) in evaluation.problems.prefix(count).enumerated() {
            let verdict = evaluation.isCorrect[i] ? "ok" : "wrong, expected \(problem.a + problem.b)"
            print("  \(AdditionTask.text(AdditionTask.prompt(problem)))"
                  + "\(AdditionTask.text(evaluation.completions[i]))  (\(verdict))")
        }
    }

    private func printAccuracy(_ evaluation: AdditionTrainer.Evaluation, label: String) {
        print(String(format: "%@ held-out greedy exact match: %d/%d = %.1f%%",
                     label, evaluation.correctCount, evaluation.problems.count, 100 * evaluation.accuracy))
    }
}

/// The arithmetic mean, NaN for no values.
private func mean<C: Collection>(_ values: C) -> Double where C.Element == Float {
    values.isEmpty ? .nan : values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
}

/// A duration in seconds.
private func seconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}
