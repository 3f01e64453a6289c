import Foundation
import Generation
import Tasks
import TensorCore
import Transformer

/// One supervised example: prompt and target completion as text, and the dataset columns the
/// completion's verifier reads (for held-out accuracy).
public struct SFTExample: Sendable {
    public var prompt: String
    public var completion: String
    public var columns: [String: JSONValue]

    public init(prompt: String, completion: String, columns: [String: JSONValue]) {
        self.prompt = prompt
        self.completion = completion
        self.columns = columns
    }
}

/// Supervised fine-tuning: cross-entropy on completion tokens only (prompt and padding masked),
/// right-padded batches, gradient accumulation, AdamW with warmup + schedule + clipping, periodic
/// held-out loss and greedy exact-match accuracy, metrics.jsonl, checkpoints with exact resume.
public final class SFTTrainer {
    public let config: SFTConfig
    public let model: DecoderModel
    let codec: TextCodec
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let train: [Encoded]
    let eval: [Encoded]
    /// Whether a greedy completion (text) answers its row (nil: cannot judge).
    let verify: (String, [String: JSONValue]) -> Bool?
    let tokenizerSource: URL?
    /// Printed lines (progress, evaluations); the CLI prints them.
    public var log: (String) -> Void = { print($0) }

    struct Encoded {
        let prompt: [Int32]
        let completion: [Int32]
        let columns: [String: JSONValue]
    }

    /// One held-out evaluation.
    public struct Evaluation: Sendable {
        public var step: Int
        public var loss: Double
        public var accuracy: Double
        public var seconds: Double
    }

    public private(set) var evaluations: [Evaluation] = []
    public private(set) var state = TrainerState()
    private var dataOrder: DataOrder

    public init(config: SFTConfig, model: DecoderModel, codec: TextCodec, train: [SFTExample], eval: [SFTExample],
                tokenizerSource: URL?, verify: @escaping (String, [String: JSONValue]) -> Bool?) throws {
        self.config = config
        self.model = model
        self.codec = codec
        self.verify = verify
        self.tokenizerSource = tokenizerSource
        let eos = codec.eosTokenIDs.min()
        func encode(_ e: SFTExample) throws -> Encoded {
            var completion = try codec.encode(e.completion)
            if let eos { completion.append(eos) }
            let prompt = try codec.encode(e.prompt)
            let room = max(1, config.maxLength - prompt.count)
            return Encoded(prompt: Array(prompt.suffix(config.maxLength - 1)), completion: Array(completion.prefix(room)), columns: e.columns)
        }
        self.train = try train.map(encode)
        self.eval = try eval.prefix(config.evalSamples).map(encode)
        guard !self.train.isEmpty else { throw config.resolved.invalid("train_file", "has no rows") }
        dataOrder = DataOrder(count: self.train.count, seed: config.seed)
        optimizer = config.optimizer.optimizer(for: model)
        schedule = config.optimizer.learningRateSchedule(totalSteps: config.maxSteps)
    }

    var outputDirectory: URL { URL(fileURLWithPath: config.outputDir) }

    /// Trains to max_steps, or until held-out greedy accuracy reaches `stop_at_eval_accuracy`, from the
    /// latest checkpoint when `resume` is set; the last checkpoint is `checkpoint-<state.step>`.
    /// `stopAt` ends the run early after that step's checkpoint (tests use it to stand for an
    /// interruption).
    public func run(resume: Bool, stopAt: Int? = nil) throws {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        if resume {
            state = try TrainingCheckpoint.resume(model: model, optimizer: optimizer, outputDirectory: outputDirectory)
            log("resumed from checkpoint-\(state.step)")
        } else {
            state = TrainerState(config: config.resolved.values)
        }
        state.config = config.resolved.values
        let metrics = try MetricsLog(url: outputDirectory.appendingPathComponent("metrics.jsonl"), resumingAt: resume ? state.step : nil)
        let start = Clock.now(), startStep = state.step
        let bar = ProgressBar(total: config.maxSteps, startTime: start)
        var window = (loss: 0.0, tokens: 0, seconds: 0.0, steps: 0)
        while state.step < config.maxSteps {
            let stepStart = Clock.now()
            let (loss, tokens) = trainStep()
            let gradNorm = config.optimizer.clip(model.parameters)
            let lr = schedule.rate(config.optimizer.learningRate, step: state.step)
            optimizer.update(lr: lr)
            state.step += 1
            let seconds = Clock.now() - stepStart
            window = (window.loss + loss, window.tokens + tokens, window.seconds + seconds, window.steps + 1)
            if state.step % config.loggingSteps == 0 || state.step == config.maxSteps {
                metrics.write(step: state.step, ["loss": window.loss / Double(window.steps), "grad_norm": gradNorm, "learning_rate": lr,
                                                 "step_time": window.seconds / Double(window.steps),
                                                 "tokens_per_second": Double(window.tokens) / window.seconds,
                                                 "epoch": Double(state.epoch) + Double(state.position) / Double(train.count)])
                bar.show(bar.line(step: state.step, startStep: startStep, now: Clock.now(),
                                  figures: [("loss", String(format: "%.4f", window.loss / Double(window.steps))),
                                            ("lr", String(format: "%.2e", lr)),
                                            ("tok/s", String(format: "%.0f", Double(window.tokens) / window.seconds))]),
                         step: state.step)
                window = (0, 0, 0, 0)
            }
            var last = state.step == config.maxSteps
            if !eval.isEmpty && ((config.evalSteps > 0 && state.step % config.evalSteps == 0) || last) {
                let e = evaluate()
                evaluations.append(e)
                metrics.write(step: state.step, ["eval_loss": e.loss, "eval_accuracy": e.accuracy, "wall_time": Clock.now() - start])
                log(String(format: "step %d: held-out loss %.4f, greedy accuracy %.1f%% (%d rows, %.1fs)",
                           state.step, e.loss, 100 * e.accuracy, eval.count, e.seconds))
                if config.stopAtEvalAccuracy > 0 && e.accuracy >= config.stopAtEvalAccuracy && !last {
                    log(String(format: "stopping at step %d: greedy accuracy %.1f%% reached stop_at_eval_accuracy %.1f%%",
                               state.step, 100 * e.accuracy, 100 * config.stopAtEvalAccuracy))
                    last = true
                }
            }
            if state.step % config.saveSteps == 0 || last {
                let folder = try TrainingCheckpoint.save(model: model, optimizer: optimizer, state: state,
                                                         outputDirectory: outputDirectory, tokenizerSource: tokenizerSource,
                                                         keep: config.saveTotalLimit)
                if last { log("saved \(folder.path)") }
            }
            if last { return }
            if let stopAt, state.step >= stopAt { return }
        }
    }

    /// The next `batchSize` examples in the seeded epoch order.
    func nextExamples() -> [Encoded] {
        dataOrder.next(config.batchSize, state: &state).map { train[$0] }
    }

    /// Right-padded rows and, for each completion token, the flat position that predicts it.
    struct Batch {
        let input: DecoderModel.Batch
        let positions: [Int]
        let targets: [Int32]
    }

    func makeBatch(_ examples: [Encoded]) -> Batch {
        let time = examples.map { $0.prompt.count + $0.completion.count }.max() ?? 1
        var ids: [Int32] = [], mask: [Int32] = [], positions: [Int] = [], targets: [Int32] = []
        for (b, e) in examples.enumerated() {
            let row = e.prompt + e.completion
            ids += row + [Int32](repeating: 0, count: time - row.count)
            mask += [Int32](repeating: 1, count: row.count) + [Int32](repeating: 0, count: time - row.count)
            for (j, token) in e.completion.enumerated() {
                positions.append(b * time + e.prompt.count + j - 1)
                targets.append(token)
            }
        }
        return Batch(input: .init(ids: ids, attentionMask: mask, batch: examples.count, time: time), positions: positions, targets: targets)
    }

    /// One optimizer step's gradients: mean completion-token cross-entropy of each micro-batch,
    /// divided by the accumulation steps. Returns the mean loss and the tokens seen.
    func trainStep() -> (loss: Double, tokens: Int) {
        model.parameters.zeroGrad()
        var total = 0.0, tokens = 0
        for _ in 0..<config.gradientAccumulationSteps {
            let batch = makeBatch(nextExamples())
            let tape = Tape()
            let lp = model.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets).logprob
            let n = Float(batch.targets.count * config.gradientAccumulationSteps)
            total -= lp.values.reduce(0) { $0 + Double($1) } / Double(batch.targets.count)
            tape.backward(lp, seed: [Float](repeating: -1 / n, count: lp.count))
            tokens += batch.input.ids.count
        }
        return (total / Double(config.gradientAccumulationSteps), tokens)
    }

    /// Held-out completion loss and greedy exact-match accuracy.
    public func evaluate() -> Evaluation {
        let start = Clock.now()
        var lossTotal = 0.0, count = 0
        for chunk in stride(from: 0, to: eval.count, by: config.batchSize) {
            let batch = makeBatch(Array(eval[chunk..<min(chunk + config.batchSize, eval.count)]))
            let lp = model.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.positions, targets: batch.targets).logprob
            lossTotal -= lp.values.reduce(0) { $0 + Double($1) }
            count += lp.count
        }
        let generator = Generator(model: model) { [codec] in codec.decode($0) }
        var correct = 0, judged = 0
        var rng = SeededGenerator(seed: 0)
        for chunk in stride(from: 0, to: eval.count, by: 64) {
            let rows = Array(eval[chunk..<min(chunk + 64, eval.count)])
            let out = generator.generate(prompts: rows.map(\.prompt),
                                         config: .init(maxNewTokens: config.evalMaxNewTokens, sampling: .init(temperature: 0),
                                                       eosTokenIDs: codec.eosTokenIDs), rng: &rng)
            for (row, completion) in zip(rows, out) {
                guard let ok = verify(completion.text, row.columns) else { continue }
                judged += 1
                correct += ok ? 1 : 0
            }
        }
        return Evaluation(step: state.step, loss: lossTotal / Double(max(count, 1)),
                          accuracy: Double(correct) / Double(max(judged, 1)), seconds: Clock.now() - start)
    }
}
