import Collectives
import Foundation
import Generation
import Rewards
import Tasks
import TensorCore
import Transformer

/// PPO with a value model and GAE, with TRL's PPOTrainer semantics (TRL 1.12), one update per step:
///
/// 1. sample one response for each of per_device_train_batch_size x gradient_accumulation_steps
///    prompts (logits / (temperature + 1e-7)), recording the sampling logprobs;
/// 2. score the responses under the frozen reference and the value model, and with the reward
///    functions (one score per response);
/// 3. per-token rewards, GAE advantages and returns (`PPOMath`);
/// 4. num_ppo_epochs passes over shuffled mini-batches: the clipped policy and value losses
///    (`PPOLoss`) seeded into both models' tapes, one AdamW step for each model per mini-batch.
///
/// Departures from TRL 1.12, all deliberate: an optimizer step per mini-batch (TRL's accelerate
/// counter steps num_ppo_epochs times per update whatever num_mini_batches is); statistics averaged
/// over the micro-batches that ran (TRL's are diluted by empty slots when num_mini_batches > 1); a
/// seeded shuffle (TRL's uses numpy's unseeded generator); and the end-of-sequence token is a trained
/// token also when it doubles as the pad token.
public final class PPOTrainer: TrainingAlgorithm {
    public let config: PPOConfig
    public let policy: DecoderModel
    public let value: DecoderModel
    let reference: DecoderModel
    let codec: TextCodec
    let prompts: [TrainingPrompt]
    let rewards: RewardScorer
    let policyOptimizer: AdamW
    let valueOptimizer: AdamW
    let schedule: LearningRateSchedule
    let tokenizerSource: URL?
    let heldOut: HeldOutSet?
    /// Where responses come from: sampled from the policy, or given.
    public var responses = ResponseSource.policy

    /// Where a PPO step's responses come from.
    public enum ResponseSource {
        /// Sampled from the policy (PPO).
        case policy
        /// Given token ids for each prompt (by its row in the training data): a replayed rollout, as
        /// the parity test with TRL uses; their sampling logprobs are the policy's.
        case fixed([Int: [Int32]])
    }

    /// Loads what `config` names (`RLInputs`); the value model from value_model, else the policy
    /// with a new score head; the reference is a frozen copy of the policy.
    public convenience init(config: PPOConfig, skipBadLines: Bool = false, log: (String) -> Void = { print($0) }) throws {
        try config.check()
        let inputs = try RLInputs.load(config.training, completionTokens: config.responseLength, rewardFunctions: config.rewards.functions,
                                       skipBadLines: skipBadLines, log: log)
        let value: DecoderModel
        if let path = config.valueModel {
            value = try ModelBundle.loadModel(path)
            var shape = value.config
            shape.padTokenID = nil
            guard value.config.scoreLabels == 1, shape.withScoreHead() == inputs.bundle.model.config.withScoreHead() else {
                throw SettingsError.invalid(source: path, key: "value_model",
                                            reason: "needs a one-label sequence-classification model of the policy's shape")
            }
        } else {
            value = inputs.bundle.model.scoreModel(seed: UInt64(bitPattern: Int64(config.training.seed)) &+ 101)
        }
        let policy = inputs.bundle.trainedModel(config.training.lora, seed: config.training.seed)
        try self.init(config: config, policy: policy, reference: inputs.bundle.reference(for: policy), value: value, codec: inputs.bundle.codec,
                      prompts: inputs.prompts, rewards: try RewardScorer(config.rewards), tokenizerSource: inputs.tokenizerSource,
                      heldOut: inputs.heldOut, verifier: inputs.verifier)
    }

    public init(config: PPOConfig, policy: DecoderModel, reference: DecoderModel, value: DecoderModel, codec: TextCodec,
                prompts: [TrainingPrompt], rewards: RewardScorer, tokenizerSource: URL?, heldOut: [TrainingPrompt] = [],
                verifier: Verifier = Verifiers.mathAnswer()) throws {
        try config.check()
        guard !prompts.isEmpty else { throw RunSetupError.emptyDataset(file: config.training.trainFile) }
        guard value.config.scoreLabels == 1 else {
            throw SettingsError.invalid(source: "PPOTrainer", key: "value_model", reason: "the value model needs a score head of one label")
        }
        self.config = config
        self.policy = policy
        self.reference = reference
        self.value = value
        config.training.configureTrained(policy, value)
        self.codec = codec
        self.prompts = prompts
        self.rewards = rewards
        self.tokenizerSource = tokenizerSource
        policyOptimizer = AdamW(model: policy, config.training.optimizer)
        valueOptimizer = AdamW(model: value, config.training.optimizer)
        schedule = config.training.optimizer.schedule(totalSteps: config.training.maxSteps)
        self.heldOut = HeldOutSet(policy: policy, codec: codec, prompts: heldOut, verifier: verifier)
    }

    // MARK: - TrainingAlgorithm

    public var settings: any TrainerSettings { config }
    public var rowCount: Int { prompts.count }
    public var checkpointParts: [any CheckpointPart] {
        [ModelState(model: policy, optimizer: policyOptimizer, tokenizerSource: tokenizerSource,
                    basePath: ModelBundle.basePath(of: config.training.model)),
         ModelState(model: value, optimizer: valueOptimizer, tokenizerSource: tokenizerSource, subfolder: "value_model")]
    }

    public func progressFigures(_ metrics: [String: Double]) -> [(String, String)] {
        [("score", String(format: "%.3f", metrics["objective/scores"] ?? .nan)), ("kl", String(format: "%.4f", metrics["objective/kl"] ?? .nan)),
         ("vf", String(format: "%.4f", metrics["loss/value_avg"] ?? .nan)), ("len", String(format: "%.1f", metrics["completions/mean_length"] ?? 0)),
         ("s/step", String(format: "%.2f", metrics["step_time"] ?? 0))]
    }

    public func evaluate(_ run: TrainingRun) throws -> HeldOutEvaluation? {
        heldOut?.evaluate(step: run.state.step, k: config.evalNumSamples, temperature: config.evalTemperature ?? config.temperature,
                          maxNewTokens: config.responseLength, seed: config.training.seed, log: run.log)
    }

    /// Logits are divided by this (TRL's temperature + 1e-7).
    var logitTemperature: Float { Float(config.temperature + 1e-7) }

    public func step(_ run: TrainingRun) throws -> [String: Double] {
        let stepStart = Clock.now()
        var timing: [String: Double] = [:]
        func timed<T>(_ key: String, _ body: () throws -> T) rethrows -> T {
            let t0 = Clock.now()
            defer { timing[key, default: 0] += Clock.now() - t0 }
            return try body()
        }
        // 1-2. Rollout: responses, their reference logprobs and values, their scores. Split over
        // ranks, each takes a contiguous share of the rows and the rollout is gathered, so every
        // rank holds the whole batch (its whitening, shuffles and micro-batches are one process's).
        let comm = run.communicator
        let chosen = run.nextRows(config.rolloutBatch)
        let share = DataParallel.share(of: chosen.count, rank: comm.rank, size: comm.size)
        let mine = Array(chosen[share])
        let local = timed("time/generate") { sample(mine, firstRow: share.lowerBound, run) }
        let time = max(Int(try comm.allreduce([Double(local.map(\.ids.count).max() ?? 1)], .max)[0]), 1)
        let batch = PPOBatch(prompts: mine.map { prompts[$0].ids }, responses: local.map(\.ids), responseTime: time)
        let cells = mine.count * time
        let localLogprobs = PPOBatch.scatter(local.flatMap(\.logprobs), cells: batch.logprobCells, count: cells)  // (B/N, T)
        let localReference = timed("time/reference") {
            PPOBatch.scatter(reference.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.logprobPositions,
                                                     targets: batch.targets, temperature: logitTemperature).logprob.values,
                             cells: batch.logprobCells, count: cells)
        }
        let localValues = timed("time/value") {
            PPOBatch.scatter(value.scores(Tape(recording: false), batch.input, positions: batch.valuePositions).values,
                             cells: batch.valueCells, count: cells)
        }
        let scored = try timed("time/reward") {
            try rewards.score(completions: local.map(\.text), prompts: mine.map { prompts[$0] }, log: run.log).gathered(comm)
        }
        let responses = try GatheredResponses(local, comm)
        let logprobs = try gatherRows(localLogprobs, comm), refLogprobs = try gatherRows(localReference, comm)  // (B, T)
        let values = try gatherRows(localValues, comm)  // (B, T)
        let rows = chosen.count
        let combined = Advantages.compute(rewardsPerFunction: scored.perCompletion, weights: scored.weights, groupSize: 1, scaling: .none).rewards
        try rewards.recordStep(judgedAny: combined.contains { $0 != nil })
        let eos = responses.ids.map { r in r.contains { codec.eosTokenIDs.contains($0) } }
        let scores = PPOMath.penalized(combined.map { $0 ?? 0 }, containsEOS: eos, penalty: config.missingEOSPenalty)
        let rollout = PPOMath.Rollout(rows: rows, time: time, lastIndex: responses.ids.map { $0.count - 1 }, logprobs: logprobs,
                                      refLogprobs: refLogprobs, values: values, scores: scores)
        let processed = PPOMath.process(rollout, config.math)

        // 3-4. Epochs over shuffled mini-batches of whole micro-batches.
        let lr = schedule.rate(config.training.optimizer.learningRate, step: run.state.step)
        let miniBatch = rows / config.numMiniBatches, microBatch = config.training.batchSize
        var stats: [String: [Double]] = [:], gradNorm = 0.0
        for _ in 0..<config.numPPOEpochs {
            var order = Array(0..<rows)
            run.withGenerator("ppo_shuffle", seed: UInt64(bitPattern: Int64(config.training.seed)) &+ 7) { $0.shuffle(&order) }
            for m in 0..<config.numMiniBatches {
                policy.trainable.zeroGrad()
                value.parameters.zeroGrad()
                let micro = Array(stride(from: m * miniBatch, to: (m + 1) * miniBatch, by: microBatch))
                var parts: [[String: Double]] = []  // (micro-batches) this rank's part of each one's statistics
                for start in micro {
                    let picked = Array(order[start..<(start + microBatch)])
                    parts.append(timed("time/policy") {
                        trainMicroBatch(picked, ranks: comm, responses: responses.ids, chosen: chosen, rollout: rollout, processed: processed,
                                        scale: 1 / Double(micro.count))
                    })
                }
                for (key, values) in try PPOTrainer.summed(parts, comm) { stats[key, default: []] += values }
                try timed("time/optimizer") {
                    try DataParallel.sumGradients(policy.trainable, comm)
                    try DataParallel.sumGradients(value.parameters, comm)
                    gradNorm = config.training.optimizer.clip(policy.trainable)
                    let valueNorm = config.training.optimizer.clip(value.parameters)
                    // Finite when every micro-batch loss of this mini-batch is.
                    let loss = (stats["loss/total"] ?? []).suffix(micro.count).reduce(0, +)
                    run.update(loss: loss, gradNorm: gradNorm + valueNorm) {
                        policyOptimizer.update(lr: lr)
                        valueOptimizer.update(lr: lr)
                    }
                }
            }
        }
        var metrics = processed.metrics.merging(try PPOTrainer.slowest(timing, comm)) { a, _ in a }.merging(scored.metrics) { a, _ in a }
            .merging(try rewards.metrics(summedOver: comm)) { a, _ in a }
        func mean(_ key: String) -> Double { (stats[key] ?? []).reduce(0, +) / Double(max(stats[key]?.count ?? 0, 1)) }
        for key in ["policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg", "policy/entropy_avg"] {
            metrics[key] = mean(key)
        }
        let ratios = stats["val/ratio"] ?? []
        metrics["val/ratio"] = mean("val/ratio")
        metrics["val/ratio_var"] = ratios.count > 1
            ? ratios.reduce(0) { $0 + ($1 - mean("val/ratio")) * ($1 - mean("val/ratio")) } / Double(ratios.count - 1) : 0
        metrics["val/num_eos_tokens"] = Double(eos.filter { $0 }.count)
        metrics["reward"] = NaNStatistics.mean(combined) ?? .nan
        metrics["reward_std"] = NaNStatistics.std(combined) ?? .nan
        metrics["loss"] = mean("loss/total")
        metrics["grad_norm"] = gradNorm
        metrics["learning_rate"] = lr
        let lengths = responses.ids.map { Double($0.count) }
        metrics["completions/mean_length"] = lengths.reduce(0, +) / Double(max(rows, 1))
        metrics["completions/clipped_ratio"] = Double(responses.truncated.filter { $0 }.count) / Double(max(rows, 1))
        metrics["completion_tokens"] = lengths.reduce(0, +)
        let stepTime = Clock.now() - stepStart
        metrics["step_time"] = stepTime
        metrics["tokens_per_second"] = lengths.reduce(0, +) / stepTime
        return metrics
    }

    /// One response per prompt, with the run's checkpointed sampling generator (or the given ones).
    /// Under mpirun, row i of the whole rollout (`firstRow` + its index here) draws from its own
    /// stream, seeded by one draw of that generator and i, so the samples do not depend on the ranks.
    func sample(_ chosen: [Int], firstRow: Int, _ run: TrainingRun) -> [Completion] {
        if case .fixed(let given) = responses { return replay(chosen.map { given[$0] ?? [] }, chosen) }
        let generator = Generator(model: policy) { [codec] in codec.decode($0) }
        let settings = GenerationConfig(maxNewTokens: config.responseLength, sampling: .init(temperature: logitTemperature),
                                        eosTokenIDs: config.stopToken == .eos ? codec.eosTokenIDs : [])
        let seed = UInt64(bitPattern: Int64(config.training.seed)), ids = chosen.map { prompts[$0].ids }
        guard run.isDataParallel else {
            return run.withGenerator("sampling", seed: seed) { generator.generate(prompts: ids, config: settings, rng: &$0) }
        }
        let base = run.withGenerator("sampling", seed: seed) { $0.next() }
        var streams = chosen.indices.map { SeededGenerator(seed: base &+ UInt64(firstRow + $0)) }
        return generator.generate(prompts: ids, config: settings, rowStreams: &streams)
    }

    /// Given responses with the policy's logprobs of their tokens (teacher-forced, at the sampling temperature).
    func replay(_ ids: [[Int32]], _ chosen: [Int]) -> [Completion] {
        let time = max(ids.map(\.count).max() ?? 1, 1)
        let batch = PPOBatch(prompts: chosen.map { prompts[$0].ids }, responses: ids, responseTime: time)
        let (lp, entropy) = policy.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.logprobPositions, targets: batch.targets,
                                                 temperature: logitTemperature)
        var offset = 0
        return ids.map { response in
            defer { offset += response.count }
            return Completion(ids: response, text: codec.decode(response),
                              finishReason: response.last.map(codec.eosTokenIDs.contains) == true ? .stop : .length,
                              logprobs: Array(lp.values[offset..<(offset + response.count)]),
                              entropies: Array(entropy.values[offset..<(offset + response.count)]))
        }
    }

    /// Forward and backward of both models on this rank's share of the rollout rows `picked` (all
    /// of them on one rank); the loss is scaled by `scale` (1 / micro-batches per mini-batch) and
    /// its means are over the whole of `picked`. Returns this rank's part of the micro-batch's
    /// statistics (the ranks' parts sum to them).
    func trainMicroBatch(_ whole: [Int], ranks comm: any Communicator, responses: [[Int32]], chosen: [Int], rollout: PPOMath.Rollout,
                         processed: PPOMath.Processed, scale: Double) -> [String: Double] {
        let t = rollout.time
        let picked = Array(whole[DataParallel.share(of: whole.count, rank: comm.rank, size: comm.size)])
        let counts = PPOLoss.Counts(tokens: Double(whole.reduce(0) { $0 + min(rollout.lastIndex[$1] + 1, t) }),
                                    positions: Double(whole.reduce(0) { $0 + min(rollout.lastIndex[$1] + 2, t) }), cells: Double(whole.count * t))
        let batch = PPOBatch(prompts: picked.map { prompts[chosen[$0]].ids }, responses: picked.map { responses[$0] }, responseTime: t)
        func rows(_ x: [Double]) -> [Double] { picked.flatMap { x[($0 * t)..<(($0 + 1) * t)] } }
        let count = picked.count * t
        func input(_ newLogprobs: [Double], _ newValues: [Double]) -> PPOLoss.Input {
            PPOLoss.Input(rows: picked.count, time: t, valid: rows(rollout.validMask), validP1: rows(rollout.validP1Mask), newLogprobs: newLogprobs,
                          oldLogprobs: rows(processed.logprobs), advantages: rows(processed.advantages), newValues: newValues,
                          oldValues: rows(processed.values), returns: rows(processed.returns), wholeBatch: counts)
        }
        // The loss is pg(logprobs) + vf_coef * vf(values): each model's gradient needs only its own
        // outputs, so each model runs forward and backward in turn and one tape is alive at a time.
        var newLogprobs: [Double] = [], entropyPart = 0.0
        do {
            let tape = Tape()
            let (lp, entropy) = policy.tokenLogprobs(tape, batch.input, positions: batch.logprobPositions, targets: batch.targets,
                                                     temperature: logitTemperature)
            newLogprobs = PPOBatch.scatter(lp.values, cells: batch.logprobCells, count: count)
            let policyPart = PPOLoss.compute(input(newLogprobs, rows(processed.values)), config.loss)
            tape.backward(lp, seed: batch.logprobCells.map { Float(policyPart.logprobGradient[$0] * scale) })
            entropyPart = entropy.values.reduce(0.0) { $0 + Double($1) } / max(counts.tokens, 1)
        }
        let tape = Tape()
        let v = value.scores(tape, batch.input, positions: batch.valuePositions)
        let result = PPOLoss.compute(input(newLogprobs, PPOBatch.scatter(v.values, cells: batch.valueCells, count: count)), config.loss)
        tape.backward(v, seed: batch.valueCells.map { Float(result.valueGradient[$0] * scale) })
        return ["policy/approxkl_avg": result.approxKL, "policy/clipfrac_avg": result.pgClipfrac, "loss/policy_avg": result.pgLoss,
                "loss/value_avg": result.vfLoss, "val/clipfrac_avg": result.vfClipfrac, "val/ratio": result.ratioMean,
                "policy/entropy_avg": entropyPart,
                "loss/total": result.loss]
    }
}
