import Collectives
import Foundation
import Tasks
import TensorCore
import Transformer

/// One preference pair as token ids (what TRL's RewardTrainer feeds the model): prompt + chosen and
/// prompt + rejected, each with the end token the rule of `RewardSequence` adds, and the optional margin.
public struct PreferencePair: Sendable, Equatable {
    public var chosen: [Int32]
    public var rejected: [Int32]
    public var margin: Double?

    public init(chosen: [Int32], rejected: [Int32], margin: Double? = nil) {
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }
}

/// Pairwise reward-model training with TRL's RewardTrainer semantics: rows {prompt, chosen,
/// rejected[, margin]} (text, or chat messages through the chat template), the Bradley-Terry loss
/// of `PairwiseLoss` on the score head read at each sequence's last non-padding token, chosen and
/// rejected rows in one forward pass; held-out pair accuracy. The model is a decoder with a scalar
/// score head (a causal LM gets a new one), saved as `...ForSequenceClassification`.
public final class RewardModelTrainer: TrainingAlgorithm {
    public let config: RewardModelConfig
    public let model: DecoderModel
    let sequence: RewardSequence
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let train: [PreferencePair]
    let eval: [PreferencePair]
    let tokenizerSource: URL?
    /// Real tokens seen so far (TRL's cumulative num_tokens).
    var tokensSeen = 0

    /// Loads what `config` names: the model (a causal LM gets a score head), its tokenizer and the pairs.
    public convenience init(config: RewardModelConfig, skipBadLines: Bool = false, log: (String) -> Void = { print($0) }) throws {
        try config.check()
        let t = config.training
        let bundle = try ModelBundle.load(t.model)
        let model = bundle.model.config.scoreLabels == nil
            ? bundle.model.scoreModel(seed: UInt64(bitPattern: Int64(t.seed)) &+ 211, std: Float(config.scoreInitStd)) : bundle.model
        guard model.config.scoreLabels == 1 else {
            throw RunSetupError.unsupported(model: t.model, reason: "a reward model has one score; this model has \(model.config.scoreLabels ?? 0) labels")
        }
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: t.useChatTemplate, model: t.model)
        let sequence = RewardSequence(model: model, codec: bundle.codec)
        func pairs(_ path: String) throws -> [PreferencePair] {
            let rows = try DatasetFile.rows(path, skipBadLines: skipBadLines, log: log)
            let all = try rows.enumerated().map { i, row in try Self.pair(row, index: i, file: path, formatter: formatter, codec: bundle.codec, sequence: sequence) }
            let kept = all.filter { $0.chosen.count <= config.maxLength && $0.rejected.count <= config.maxLength }
            if kept.count < all.count { log("\(path): dropped \(all.count - kept.count) pair(s) longer than max_length \(config.maxLength) tokens") }
            guard !kept.isEmpty else { throw RunSetupError.emptyDataset(file: path) }
            return kept
        }
        try self.init(config: config, model: model, sequence: sequence, train: pairs(t.trainFile), eval: try t.evalFile.map(pairs) ?? [],
                      tokenizerSource: try bundle.tokenizerFolder(outputDir: t.outputDir))
    }

    public init(config: RewardModelConfig, model: DecoderModel, sequence: RewardSequence, train: [PreferencePair], eval: [PreferencePair],
                tokenizerSource: URL?) throws {
        try config.check()
        self.config = config
        self.model = model
        config.training.configureTrained(model)
        self.sequence = sequence
        self.train = train
        self.eval = Array(eval.prefix(config.training.evalSamples))
        self.tokenizerSource = tokenizerSource
        optimizer = AdamW(model: model, config.training.optimizer)
        schedule = config.training.optimizer.schedule(totalSteps: config.training.maxSteps)
    }

    /// The pair of one row: prompt + chosen and prompt + rejected (each text, or messages), and `margin` if present.
    static func pair(_ row: Row, index: Int, file: String, formatter: PromptFormatter, codec: TextCodec, sequence: RewardSequence) throws
        -> PreferencePair {
        func side(_ column: String) throws -> [Int32] {
            let value = row.columns[column]
            let messages = value.flatMap(ChatMessage.list).flatMap { $0.isEmpty ? nil : $0 }
            guard value?.stringValue != nil || messages != nil else {
                throw RunSetupError.missingColumn(file: file, row: index + 1, column: "\(column) (text or a list of {role, content} messages)")
            }
            let (text, conversational) = try formatter.text(row, reply: messages, orText: value?.stringValue, file: file)
            return try sequence.ids(text, codec: codec, conversational: conversational)
        }
        var margin: Double?
        if let value = row.columns["margin"] {
            guard let number = value.numberValue, number.isFinite else {
                throw RunSetupError.missingColumn(file: file, row: index + 1, column: "margin (a finite number)")
            }
            margin = number
        }
        return PreferencePair(chosen: try side("chosen"), rejected: try side("rejected"), margin: margin)
    }

    // MARK: - TrainingAlgorithm

    public var settings: any TrainerSettings { config }
    public var rowCount: Int { train.count }
    public var checkpointParts: [any CheckpointPart] {
        [ModelState(model: model, optimizer: optimizer, tokenizerSource: tokenizerSource)]
    }

    public func step(_ run: TrainingRun) throws -> [String: Double] {
        let start = Clock.now()
        tokensSeen = Int(run.state.counters["num_tokens"] ?? 0)  // checkpointed, so a resume goes on counting
        let comm = run.communicator
        let share = DataParallel.share(of: config.training.batchSize, rank: comm.rank, size: comm.size)
        var metrics = try accumulateGradients((0..<config.training.gradientAccumulationSteps).map { _ in
            run.nextRows(config.training.batchSize)[share].map { train[$0] }
        }, communicator: comm)
        run.state.counters["num_tokens"] = Double(tokensSeen)
        try DataParallel.sumGradients(model.parameters, comm)
        let gradNorm = config.training.optimizer.clip(model.parameters)
        metrics["grad_norm"] = gradNorm
        let lr = schedule.rate(config.training.optimizer.learningRate, step: run.state.step)
        run.update(loss: metrics["loss"] ?? .nan, gradNorm: gradNorm) { optimizer.update(lr: lr) }
        metrics["learning_rate"] = lr
        metrics["step_time"] = Clock.now() - start
        return metrics
    }

    /// Ranks take equal shares of each micro-batch's pairs.
    public func checkDataParallel(ranks: Int) throws {
        try DataParallel.checkDivisible(config.training.batchSize, by: ranks, key: "per_device_train_batch_size", what: "pairs of a micro-batch")
    }

    public func progressFigures(_ metrics: [String: Double]) -> [(String, String)] {
        [("loss", String(format: "%.4f", metrics["loss"] ?? .nan)), ("accuracy", String(format: "%.3f", metrics["accuracy"] ?? .nan)),
         ("margin", String(format: "%.3f", metrics["margin"] ?? .nan))]
    }

    /// Held-out pair accuracy, loss and margin.
    public func evaluate(_ run: TrainingRun) throws -> HeldOutEvaluation? {
        guard !eval.isEmpty else { return nil }
        let start = Clock.now()
        let result = heldOut()
        let metrics = ["eval/accuracy": result.metrics["accuracy"] ?? .nan, "eval/loss": result.loss, "eval/margin": result.metrics["margin"] ?? .nan,
                       "eval/mean_reward": result.metrics["mean_reward"] ?? .nan]
        return HeldOutEvaluation(
            metrics: metrics,
            summary: String(format: "step %d: held-out pair accuracy %.1f%%, loss %.4f, margin %.3f (%d pairs, %.1fs)", run.state.step,
                            100 * (metrics["eval/accuracy"] ?? .nan), result.loss, metrics["eval/margin"] ?? .nan, eval.count, Clock.now() - start))
    }

    // MARK: - The algorithm

    /// One optimizer step's gradients over micro-batches of pairs: each micro-batch's chosen rows
    /// then rejected rows in one forward pass, its loss divided by the number of micro-batches.
    /// Returns the metrics, averaged over the micro-batches (num_tokens: cumulative). Split over
    /// ranks, `microBatches` are this rank's equal shares: each loss is scaled by 1 / ranks (so the
    /// summed gradient is the whole micro-batch's mean) and the metrics are the whole batch's.
    public func accumulateGradients(_ microBatches: [[PreferencePair]], communicator comm: any Communicator = SingleProcess()) throws
        -> [String: Double] {
        model.parameters.zeroGrad()
        let n = Double(microBatches.count), ranks = Double(comm.size)
        var means: [String: [Double]] = [:], tokens = 0.0  // (micro-batches) per key: this rank's share of each mean
        var lowest: [Double] = [], highest: [Double] = []  // (micro-batches)
        for pairs in microBatches {
            let (input, positions) = sequence.batch(pairs.map(\.chosen) + pairs.map(\.rejected))
            let tape = Tape()
            let scores = model.scores(tape, input, positions: positions)  // (2B, 1)
            let rewards = scores.values.map(Double.init)
            let b = pairs.count
            let margins = pairs.contains { $0.margin != nil } ? pairs.map { $0.margin ?? 0 } : nil
            let result = PairwiseLoss.compute(chosen: Array(rewards[..<b]), rejected: Array(rewards[b...]), margins: margins,
                                              centerCoefficient: config.centerRewardsCoefficient)
            tape.backward(scores, seed: (result.dChosen + result.dRejected).map { Float($0 / (n * ranks)) })
            tokens += Double(pairs.reduce(0) { $0 + $1.chosen.count + $1.rejected.count })
            means["loss", default: []].append(result.loss / ranks)
            for key in Self.meanMetrics { means[key, default: []].append((result.metrics[key] ?? .nan) / ranks) }
            lowest.append(result.metrics["min_reward"] ?? .nan)
            highest.append(result.metrics["max_reward"] ?? .nan)
        }
        // Equal shares: a mean over the whole micro-batch is the sum of the ranks' means / ranks.
        let keys = ["loss"] + Self.meanMetrics
        let summed = try comm.allreduce(keys.flatMap { means[$0] ?? [] } + [tokens], .sum)
        lowest = try comm.allreduce(lowest, .min)
        highest = try comm.allreduce(highest, .max)
        var metrics: [String: Double] = [:]
        for (k, key) in keys.enumerated() { metrics[key] = summed[(k * microBatches.count)..<((k + 1) * microBatches.count)].reduce(0, +) / n }
        metrics["min_reward"] = lowest.reduce(0, +) / n
        metrics["max_reward"] = highest.reduce(0, +) / n
        tokensSeen += Int(summed[summed.count - 1])
        metrics["num_tokens"] = Double(tokensSeen)
        return metrics
    }

    /// The metrics of `PairwiseLoss` that are means over a micro-batch's pairs.
    static let meanMetrics = ["accuracy", "margin", "mean_reward"]

    /// Loss and metrics over the held-out pairs, without gradients.
    func heldOut() -> PairwiseLoss.Result {
        let chosen = sequence.scores(model, eval.map(\.chosen), batchSize: config.training.batchSize)
        let rejected = sequence.scores(model, eval.map(\.rejected), batchSize: config.training.batchSize)
        let margins = eval.contains { $0.margin != nil } ? eval.map { $0.margin ?? 0 } : nil
        return PairwiseLoss.compute(chosen: chosen, rejected: rejected, margins: margins, centerCoefficient: config.centerRewardsCoefficient)
    }
}
