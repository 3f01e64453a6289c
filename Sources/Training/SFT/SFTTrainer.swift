import Evaluation
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
/// right-padded batches, gradient accumulation, AdamW with warmup, schedule and clipping; held-out
/// loss and greedy accuracy. The run loop (`TrainingLoop`) does the rest.
public final class SFTTrainer: TrainingAlgorithm {
    public let config: SFTConfig
    public let model: DecoderModel
    let codec: TextCodec
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let train: [Encoded]
    let eval: [Encoded]
    let evaluator: Evaluator
    let tokenizerSource: URL?

    struct Encoded {
        let prompt: [Int32]  // at least one token: the last predicts the completion's first
        let completion: [Int32]
        let columns: [String: JSONValue]
    }

    /// Loads what `config` names: the model and tokenizer (checked to fit), the rows (`prompt`,
    /// `completion`, and the columns the verifier reads) and the verifier.
    public convenience init(config: SFTConfig, skipBadLines: Bool = false, log: (String) -> Void = { print($0) }) throws {
        try config.check()  // before loading a model that may be large
        let t = config.training
        let bundle = try ModelBundle.load(t.model)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: t.useChatTemplate, model: t.model)
        func examples(_ path: String) throws -> [SFTExample] {
            try DatasetFile.rows(path, skipBadLines: skipBadLines, log: log).enumerated().map { i, row in
                guard let completion = row.completionText else { throw RunSetupError.missingColumn(file: path, row: i + 1, column: "completion") }
                return SFTExample(prompt: try formatter.text(row, file: path), completion: completion, columns: row.columns)
            }
        }
        try self.init(config: config, model: bundle.trainedModel(t.lora, seed: t.seed), codec: bundle.codec, train: examples(t.trainFile),
                      eval: try t.evalFile.map(examples) ?? [], tokenizerSource: try bundle.tokenizerFolder(outputDir: t.outputDir),
                      verifier: try t.resolvedVerifier())
    }

    public init(config: SFTConfig, model: DecoderModel, codec: TextCodec, train: [SFTExample], eval: [SFTExample],
                tokenizerSource: URL?, verifier: Verifier) throws {
        try config.check()
        self.config = config
        self.model = model
        config.training.configureTrained(model)
        self.codec = codec
        self.tokenizerSource = tokenizerSource
        let eos = codec.eosTokenIDs.min()
        let maxLength = config.maxLength
        func encode(_ e: SFTExample, _ index: Int, _ file: String) throws -> Encoded {
            var completion = try codec.encode(e.completion)
            if let eos { completion.append(eos) }
            let prompt = try codec.encode(e.prompt)
            guard !prompt.isEmpty else { throw RunSetupError.missingColumn(file: file, row: index + 1, column: "prompt (non-empty)") }
            let kept = Array(prompt.suffix(maxLength - 1))
            return Encoded(prompt: kept, completion: Array(completion.prefix(maxLength - kept.count)), columns: e.columns)
        }
        self.train = try train.enumerated().map { try encode($1, $0, config.training.trainFile) }
        self.eval = try eval.prefix(config.training.evalSamples).enumerated().map { try encode($1, $0, config.training.evalFile ?? "eval") }
        guard !self.train.isEmpty else { throw RunSetupError.emptyDataset(file: config.training.trainFile) }
        optimizer = AdamW(model: model, config.training.optimizer)
        schedule = config.training.optimizer.schedule(totalSteps: config.training.maxSteps)
        evaluator = Evaluator(model: model, decode: { [codec] in codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs, verifier: verifier)
    }

    // MARK: - TrainingAlgorithm

    public var settings: any TrainerSettings { config }
    public var rowCount: Int { train.count }
    public var checkpointParts: [any CheckpointPart] {
        [ModelState(model: model, optimizer: optimizer, tokenizerSource: tokenizerSource,
                    basePath: ModelBundle.basePath(of: config.training.model))]
    }

    public func step(_ run: TrainingRun) throws -> [String: Double] {
        let start = Clock.now()
        let (loss, tokens) = try accumulateGradients(run)
        try DataParallel.sumGradients(model.trainable, run.communicator)
        let gradNorm = config.training.optimizer.clip(model.trainable)
        let lr = schedule.rate(config.training.optimizer.learningRate, step: run.state.step)
        run.update(loss: loss, gradNorm: gradNorm) { optimizer.update(lr: lr) }
        let seconds = Clock.now() - start
        return ["loss": loss, "grad_norm": gradNorm, "learning_rate": lr, "step_time": seconds,
                "tokens_per_second": Double(tokens) / seconds]
    }

    /// Ranks take equal shares of each micro-batch's rows.
    public func checkDataParallel(ranks: Int) throws {
        try DataParallel.checkDivisible(config.training.batchSize, by: ranks, key: "per_device_train_batch_size", what: "rows of a micro-batch")
    }

    public func progressFigures(_ metrics: [String: Double]) -> [(String, String)] {
        [("loss", String(format: "%.4f", metrics["loss"] ?? .nan)), ("lr", String(format: "%.2e", metrics["learning_rate"] ?? .nan)),
         ("tok/s", String(format: "%.0f", metrics["tokens_per_second"] ?? .nan))]
    }

    /// Held-out completion loss and greedy accuracy; asks to stop when the accuracy reaches
    /// stop_at_eval_accuracy.
    public func evaluate(_ run: TrainingRun) throws -> HeldOutEvaluation? {
        guard !eval.isEmpty else { return nil }
        let start = Clock.now()
        let loss = heldOutLoss()
        let accuracy = evaluator.greedyAccuracy(prompts: eval.map(\.prompt), columns: eval.map(\.columns),
                                                maxNewTokens: config.evalMaxNewTokens)
        let target = config.stopAtEvalAccuracy
        return HeldOutEvaluation(
            metrics: ["eval/loss": loss, "eval/greedy": accuracy],
            summary: String(format: "step %d: held-out loss %.4f, greedy accuracy %.1f%% (%d rows, %.1fs)",
                            run.state.step, loss, 100 * accuracy, eval.count, Clock.now() - start),
            stopReason: target > 0 && accuracy >= target
                ? String(format: "greedy accuracy %.1f%% reached stop_at_eval_accuracy %.1f%%", 100 * accuracy, 100 * target) : nil)
    }

    // MARK: - The algorithm

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
    /// divided by the accumulation steps. Returns the mean loss and the tokens seen. Split over
    /// ranks, each takes its share of every micro-batch's rows; the token counts that normalise
    /// the loss are the whole micro-batch's.
    func accumulateGradients(_ run: TrainingRun) throws -> (loss: Double, tokens: Int) {
        model.trainable.zeroGrad()
        let accumulation = config.training.gradientAccumulationSteps, comm = run.communicator
        let share = DataParallel.share(of: config.training.batchSize, rank: comm.rank, size: comm.size)
        let batches = (0..<accumulation).map { _ in makeBatch(run.nextRows(config.training.batchSize)[share].map { train[$0] }) }
        let targets = try comm.allreduce(batches.map { Double($0.targets.count) }, .sum)  // (accumulation)
        var total = 0.0, tokens = 0
        for (batch, count) in zip(batches, targets) {
            let tape = Tape()
            let lp = model.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets).logprob
            let n = Float(count * Double(accumulation))
            total -= lp.values.reduce(0) { $0 + Double($1) } / count
            tape.backward(lp, seed: [Float](repeating: -1 / n, count: lp.count))
            tokens += batch.input.ids.count
        }
        if comm.size > 1 { (total, tokens) = try (comm.sum(total), Int(comm.sum(Double(tokens)))) }
        return (total / Double(accumulation), tokens)
    }

    /// Mean completion-token cross-entropy over the held-out rows.
    func heldOutLoss() -> Double {
        var total = 0.0, count = 0
        for chunk in stride(from: 0, to: eval.count, by: config.training.batchSize) {
            let batch = makeBatch(Array(eval[chunk..<min(chunk + config.training.batchSize, eval.count)]))
            let lp = model.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.positions, targets: batch.targets).logprob
            total -= lp.values.reduce(0) { $0 + Double($1) }
            count += lp.count
        }
        return total / Double(max(count, 1))
    }
}
