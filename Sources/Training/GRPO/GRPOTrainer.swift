import Collectives
import Evaluation
import Foundation
import Generation
import Rewards
import Tasks
import TensorCore
import Tracking
import Transformer

/// The GRPO trainer (DeepSeekMath / DeepSeek-R1), one optimizer step at a time:
///
/// 1. every num_iterations steps, collect a generation batch (`RolloutCollector`): P prompts x G
///    completions sampled from the current policy with their logprobs (pi_old), rewards,
///    group-relative advantages, and with beta != 0 the reference logprobs;
/// 2. over gradient_accumulation_steps mini-batches, recompute the policy logprobs on the tape
///    (rows packed by `RowPacker`), evaluate the clipped objective + KL (`PolicyLoss`) and seed its
///    gradient into the tape;
/// 3. clip the gradient norm and take an AdamW step.
///
/// The math lives in Advantages.swift and PolicyLoss.swift; the run loop (data order, logging,
/// evaluation schedule, checkpoints) in `TrainingLoop`.
public final class GRPOTrainer: TrainingAlgorithm {
    public let config: GRPOConfig
    public let policy: DecoderModel
    let reference: DecoderModel?
    let codec: TextCodec
    let prompts: [TrainingPrompt]
    let rewards: RewardScorer
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let tokenizerSource: URL?
    let heldOut: HeldOutSet?
    /// How the policy pass lays out rows and slices (the loss is the same for every choice).
    public var packing = RowPacking()
    /// Whether the policy pass leaves out rollouts whose loss and gradient are exactly zero
    /// (`addsNothing`); the step's gradient and metrics are the same either way.
    public var skipsZeroGradientRollouts = true
    /// The generation batch the next num_iterations steps train on.
    private var generation: GenerationBatch?

    /// Loads what `config` names (`RLInputs`): the policy and tokenizer, a copy of the policy as the
    /// frozen reference when beta != 0, the prompts, the reward functions, and the held-out rows.
    public convenience init(config: GRPOConfig, skipBadLines: Bool = false, log: (String) -> Void = { print($0) }) throws {
        try config.check()  // before loading a model that may be large
        let inputs = try RLInputs.load(config.training, completionTokens: config.rollout.maxCompletionLength,
                                       rewardFunctions: config.rewards.functions, skipBadLines: skipBadLines, log: log)
        let policy = inputs.bundle.trainedModel(config.training.lora, seed: config.training.seed)
        try self.init(config: config, policy: policy, reference: config.loss.beta != 0 ? inputs.bundle.reference(for: policy) : nil,
                      codec: inputs.bundle.codec, prompts: inputs.prompts, rewards: try RewardScorer(config.rewards),
                      tokenizerSource: inputs.tokenizerSource, heldOut: inputs.heldOut, verifier: inputs.verifier)
    }

    public init(config: GRPOConfig, policy: DecoderModel, reference: DecoderModel?, codec: TextCodec, prompts: [TrainingPrompt],
                rewards: RewardScorer, tokenizerSource: URL?, heldOut: [TrainingPrompt] = [], verifier: Verifier = Verifiers.mathAnswer()) throws {
        try config.check()
        guard !prompts.isEmpty else { throw RunSetupError.emptyDataset(file: config.training.trainFile) }
        guard (config.loss.beta == 0) == (reference == nil) else {
            throw SettingsError.invalid(source: "GRPOTrainer", key: "beta", reason: "a reference model is needed exactly when beta != 0")
        }
        if config.advantage == .process && !rewards.hasProcessReward {
            throw SettingsError.invalid(source: "GRPOTrainer", key: "advantage",
                                        reason: "process needs a process reward in reward_funcs (equation_steps, reference_steps)")
        }
        self.config = config
        self.policy = policy
        config.training.configureTrained(policy)
        self.reference = reference
        self.codec = codec
        self.prompts = prompts
        self.rewards = rewards
        self.tokenizerSource = tokenizerSource
        optimizer = AdamW(model: policy, config.training.optimizer)
        schedule = config.training.optimizer.schedule(totalSteps: config.training.maxSteps)
        self.heldOut = HeldOutSet(policy: policy, codec: codec, prompts: heldOut, verifier: verifier)
    }

    var packer: RowPacker { RowPacker(prompts: prompts, model: policy.config, options: packing) }

    var collector: RolloutCollector {
        RolloutCollector(config: config, policy: policy, reference: reference, codec: codec, prompts: prompts, rewards: rewards, packer: packer)
    }

    // MARK: - TrainingAlgorithm

    public var settings: any TrainerSettings { config }
    public var rowCount: Int { prompts.count }
    public var checkpointParts: [any CheckpointPart] {
        [ModelState(model: policy, optimizer: optimizer, tokenizerSource: tokenizerSource,
                    basePath: ModelBundle.basePath(of: config.training.model))]
    }

    public func step(_ run: TrainingRun) throws -> [String: Double] {
        if generation == nil || run.state.step % config.numIterations == 0 { generation = try collector.collect(run) }
        guard let generation else { return [:] }
        let metrics = try optimizerStep(generation, step: run.state.step, run: run)
        let step = run.state.step + 1
        if config.logCompletions && (step % config.training.loggingSteps == 0 || step == config.training.maxSteps) {
            try run.logCompletions(completionRows(generation, step: step, metrics: metrics))
        }
        if config.logCompletionsSteps > 0 && step % config.logCompletionsSteps == 0 {
            run.log(completionTable(generation, step: step))
        }
        return metrics
    }

    /// Ranks take whole groups: they must divide the prompts of a generation batch.
    public func checkDataParallel(ranks: Int) throws {
        guard ranks > 1 else { return }
        if config.dynamicSampling {
            throw DataParallelError.unsupported(feature: "dynamic_sampling", reason: "its extra rounds depend on the groups every rank keeps")
        }
        try DataParallel.checkDivisible(config.promptsPerStep, by: ranks, key: "per_device_train_batch_size",
                                        what: "prompts of a generation batch (per_device_train_batch_size x gradient_accumulation_steps / num_generations)")
    }

    public func progressFigures(_ metrics: [String: Double]) -> [(String, String)] {
        [("reward", String(format: "%.3f", metrics["reward"] ?? .nan)), ("loss", String(format: "%.4f", metrics["loss"] ?? .nan)),
         ("kl", String(format: "%.4f", metrics["kl"] ?? 0)), ("len", String(format: "%.1f", metrics["completions/mean_length"] ?? 0)),
         ("s/step", String(format: "%.2f", metrics["step_time"] ?? 0))]
    }

    /// Held-out greedy accuracy, pass@1, pass@k and maj@k (k = eval_num_samples).
    public func evaluate(_ run: TrainingRun) throws -> HeldOutEvaluation? {
        heldOut?.evaluate(step: run.state.step, k: config.evalNumSamples, temperature: config.evalTemperature ?? config.rollout.temperature,
                          maxNewTokens: config.rollout.maxCompletionLength, seed: config.training.seed, log: run.log)
    }

    // MARK: - Policy pass and update

    /// Whether a rollout's loss and gradient are exactly zero, so the policy pass can skip it: a
    /// masked (truncated) completion, or, with beta = 0, one whose advantage is 0 at every token
    /// (-min(r A, clip(r) A) = 0 for any ratio). Its tokens still count in every normaliser.
    func addsNothing(_ r: Rollout) -> Bool {
        !r.lossMask || (config.loss.beta == 0 && r.advantage.allSatisfy { $0 == 0 })
    }

    /// One optimizer step over the generation batch's mini-batches (`step` is its 0-based index);
    /// returns the step's metrics. With `run`, a non-finite loss or gradient refuses the update.
    /// Split over ranks (`run.communicator`), each rank holds a contiguous share of the batch: the
    /// normalisers are the whole batch's, the gradients are summed before clipping and the metrics
    /// reduced, so every rank takes the step one process would.
    func optimizerStep(_ generation: GenerationBatch, step: Int, run: TrainingRun? = nil) throws -> [String: Double] {
        let stepStart = Clock.now()
        let communicator = run?.communicator ?? SingleProcess()
        policy.trainable.zeroGrad()
        let rollouts = generation.rollouts
        let share = generation.share ?? (0, rollouts.count)
        func activeTokens(_ part: ArraySlice<Rollout>) -> Double { part.reduce(0.0) { $0 + ($1.lossMask ? Double($1.completion.ids.count) : 0) } }
        let miniBatches = config.training.gradientAccumulationSteps
        let per = share.total / miniBatches
        // Mini-batch m is rollouts m*per..<(m+1)*per of the whole batch; this rank's part of it:
        let parts = (0..<miniBatches).map { m -> Range<Int> in
            let (lo, hi) = (max(m * per, share.offset) - share.offset, min((m + 1) * per, share.offset + rollouts.count) - share.offset)
            return lo < hi ? lo..<hi : 0..<0
        }
        let partTokens = try communicator.allreduce(parts.map { activeTokens(rollouts[$0]) }, .sum)  // (miniBatches)
        let activeTokens = partTokens.reduce(0, +)
        let normalization = LossNormalization(accumulationSteps: miniBatches, stepsPerGeneration: miniBatches,
                                              activeTokensInGeneration: activeTokens)
        let lossConfig = config.policyLoss, packer = self.packer
        let sequenceLevel = lossConfig.importanceSampling == .sequence
        var loss = 0.0, entropyTotal = 0.0
        var clip = (low: 0.0, high: 0.0, region: 0.0), klTotal = 0.0, extra: [String: Double] = [:]
        var policyTime = 0.0, mismatch = 0.0, skipped = 0
        let firstPass = step % config.numIterations == 0
        for m in 0..<miniBatches {
            let part = Array(rollouts[parts[m]])
            var sliceNormalization = normalization
            sliceNormalization.miniBatch = (per, partTokens[m])
            // Skipped rollouts add nothing to loss, gradient or clip counts; their entropy is the sampler's.
            let forwarded = skipsZeroGradientRollouts ? part.filter { !addsNothing($0) } : part
            for r in part where skipsZeroGradientRollouts && addsNothing(r) && r.lossMask {
                entropyTotal += r.completion.entropies.reduce(0.0) { $0 + Double($1) }
            }
            skipped += part.count - forwarded.count
            // Slices of whole completions bound the tape's activation memory; each gets its exact
            // share of the loss, so the gradient equals the whole mini-batch's.
            for slice in packer.slices(of: forwarded) {
                let t0 = Clock.now()
                let batch = packer.makeBatch(slice)
                let tape = Tape()
                let (lp, entropy) = policy.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets,
                                                         temperature: Float(config.rollout.temperature))
                let input = lossInput(slice, current: lp.values)
                if firstPass {
                    // The sampler's logprobs are pi_old; before any update they must equal the tape's.
                    for (k, keep) in zip(input.packedIndices, input.tokenMask) where keep {
                        mismatch = max(mismatch, abs(input.loss.logps[k] - input.loss.oldLogps[k]))
                    }
                }
                let result = PolicyLoss.compute(input.loss, config: lossConfig, normalization: sliceNormalization)
                // Seed d loss / d logp into the tape, in the packed order of `positions`.
                tape.backward(lp, seed: input.packedIndices.map { Float(result.gradient[$0]) })
                policyTime += Clock.now() - t0
                loss += result.loss
                // Clip fractions are over all completions (sequence level) or active tokens of the batch.
                let tokenShare = Double(input.tokenMask.filter { $0 }.count) / max(activeTokens, 1)
                let weight = sequenceLevel ? Double(slice.count) / Double(share.total) : tokenShare
                clip.low += result.clipLow * weight
                clip.high += result.clipHigh * weight
                clip.region += result.clipRegion * weight
                klTotal += (result.kl ?? 0) * tokenShare
                for (key, value) in result.extra { extra[key, default: 0] += value * weight }
                for (e, keep) in zip(entropy.values, input.tokenMask) where keep { entropyTotal += Double(e) }
            }
        }
        if communicator.size > 1 {
            // The figures above are sums over this rank's rollouts: add the other ranks'.
            let extraKeys = ["cispo_clip_ratio", "vespo/phi_seq_mean"]
            let local = [loss, entropyTotal, clip.low, clip.high, clip.region, klTotal, Double(skipped)]
                + extraKeys.map { extra[$0] ?? 0 } + extraKeys.map { extra[$0] == nil ? 0 : 1 }
            let total = try communicator.allreduce(local, .sum)
            (loss, entropyTotal, clip, klTotal, skipped) = (total[0], total[1], (total[2], total[3], total[4]), total[5], Int(total[6]))
            for (k, key) in extraKeys.enumerated() where total[7 + extraKeys.count + k] > 0 { extra[key] = total[7 + k] }
            mismatch = try communicator.allreduce([mismatch], .max)[0]
        }
        let t0 = Clock.now()
        try DataParallel.sumGradients(policy.trainable, communicator)
        let gradNorm = config.training.optimizer.clip(policy.trainable)
        let lr = schedule.rate(config.training.optimizer.learningRate, step: step)
        if let run { run.update(loss: loss, gradNorm: gradNorm) { optimizer.update(lr: lr) } } else { optimizer.update(lr: lr) }
        var metrics = generation.metrics
        metrics["time/optimizer"] = Clock.now() - t0
        metrics["loss"] = loss
        metrics["grad_norm"] = gradNorm
        metrics["learning_rate"] = lr
        metrics["entropy"] = entropyTotal / max(activeTokens, 1)
        metrics["frac_policy_skipped"] = Double(skipped) / Double(max(share.total, 1))
        if lossConfig.lossType.clips {
            metrics["clip_ratio/low_mean"] = clip.low
            metrics["clip_ratio/high_mean"] = clip.high
            metrics["clip_ratio/region_mean"] = clip.region
        }
        metrics.merge(extra) { a, _ in a }
        if config.loss.beta != 0 { metrics["kl"] = klTotal }
        metrics["time/policy"] = policyTime
        if firstPass { metrics["logprob_mismatch"] = mismatch }
        // The first optimizer step of a generation batch carries its sampling time.
        let sampling = ["time/generate", "time/reward", "time/reference"].reduce(0.0) { $0 + (generation.metrics[$1] ?? 0) }
        let stepTime = Clock.now() - stepStart + (firstPass ? sampling : 0)
        metrics["step_time"] = stepTime
        metrics["tokens_per_second"] = (generation.metrics["completion_tokens"] ?? 0) / stepTime
        return metrics
    }

    /// The PolicyLoss input of a slice (completions padded to its longest), the per-token loss
    /// mask in the tape's packed order, and where each packed token sits in the padded layout.
    func lossInput(_ part: [Rollout], current: [Float]) -> (loss: PolicyLossInput, tokenMask: [Bool], packedIndices: [Int]) {
        let t = max(part.map(\.completion.ids.count).max() ?? 0, 1)
        let b = part.count
        var logps = [Double](repeating: 0, count: b * t), old = logps, ref = logps, adv = logps, mask = logps
        var packed: [Int] = [], tokenMask: [Bool] = []
        var offset = 0
        for (i, r) in part.enumerated() {
            for j in 0..<r.completion.ids.count {
                let k = i * t + j
                logps[k] = Double(current[offset])
                old[k] = Double(r.completion.logprobs[j])
                ref[k] = Double(r.referenceLogprobs?[j] ?? 0)
                adv[k] = r.advantage[j]
                mask[k] = r.lossMask ? 1 : 0
                packed.append(k)
                tokenMask.append(r.lossMask)
                offset += 1
            }
        }
        let input = PolicyLossInput(logps: logps, oldLogps: old, refLogps: reference == nil ? nil : ref, advantages: adv, mask: mask,
                                    completions: b, time: t)
        return (input, tokenMask, packed)
    }

    /// completions.jsonl rows of a step: prompt, completion, each function's score, the combined
    /// reward, the advantage (of the first token; per token under process supervision) and the
    /// step's ratio and KL figures.
    func completionRows(_ generation: GenerationBatch, step: Int, metrics: [String: Double]) -> [[String: JSONLine]] {
        let summary = ["kl", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"].compactMap { key in
            metrics[key].map { (key, JSONLine.number($0)) }
        }
        return generation.rollouts.map { r in
            var row: [String: JSONLine] = [
                "step": .int(step), "prompt": .string(prompts[r.prompt].text), "completion": .string(r.completion.text),
                "rewards": .object(Dictionary(uniqueKeysWithValues: zip(rewards.names, r.scores.map(JSONLine.init)))),
                "reward": JSONLine(r.reward), "advantage": .number(r.advantage.first ?? 0),
                "finish_reason": .string(r.completion.finishReason.rawValue),
            ]
            if config.advantage == .process { row["token_advantages"] = .array(r.advantage.map { .number($0) }) }
            for (key, value) in summary { row[key] = value }
            return row
        }
    }

    /// A few sample completions with their rewards, as a text table.
    func completionTable(_ generation: GenerationBatch, step: Int) -> String {
        var lines = ["step \(step): sample completions (advantage | \(rewards.names.joined(separator: ", ")) | prompt end | completion)"]
        for r in generation.rollouts.prefix(config.numCompletionsToPrint) {
            let prompt = prompts[r.prompt].text.replacingOccurrences(of: "\n", with: " ")
            let text = r.completion.text.replacingOccurrences(of: "\n", with: " ")
            let scores = r.scores.map { $0.map { String(format: "%.2f", $0) } ?? "-" }.joined(separator: " ")
            lines.append(String(format: "  %+.2f | %@ | %@ | %@", r.advantage.first ?? 0, scores, String(prompt.suffix(40)), String(text.prefix(60))))
        }
        return lines.joined(separator: "\n")
    }
}
