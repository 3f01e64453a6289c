import Foundation
import Generation
import TensorCore
import Transformer

/// The GRPO trainer (DeepSeekMath / DeepSeek-R1), step by step:
///
/// 1. take P prompts, sample G completions each from the current policy, recording the sampling
///    logprobs (pi_old);
/// 2. score them with the reward functions, compute group-relative advantages;
/// 3. with beta != 0, score the completions under the frozen reference model;
/// 4. for num_iterations passes, over gradient_accumulation_steps mini-batches: recompute the
///    policy logprobs on the tape, evaluate the clipped objective + KL (PolicyLoss) and seed its
///    gradient into the tape; clip and take an AdamW step.
///
/// The math lives in Advantages.swift and PolicyLoss.swift; this file moves data between them.
public final class GRPOTrainer {
    public let config: GRPOConfig
    public let policy: DecoderModel
    let reference: DecoderModel?
    let codec: TextCodec
    let prompts: [GRPOPrompt]
    let rewards: RewardProvider
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    let tokenizerSource: URL?
    public var log: (String) -> Void = { print($0) }
    /// Whether to draw the progress bar on stdout.
    public var showProgress = true
    /// Called after each optimizer step with its metrics (for the demo's curves).
    public var onStep: (Int, [String: Double]) -> Void = { _, _ in }
    /// Called at evaluation points (before training, every eval_steps, at the end).
    public var evaluate: ((Int) -> [String: Double])?
    public private(set) var state = TrainerState()
    private var dataOrder: DataOrder

    /// One sampled completion with everything the loss needs.
    struct Rollout {
        let prompt: Int  // index into `prompts`
        let completion: Completion
        var advantage: [Double]  // per completion token
        var referenceLogprobs: [Float]?
        var lossMask: Bool  // false for truncated completions when masking them
    }

    public init(config: GRPOConfig, policy: DecoderModel, reference: DecoderModel?, codec: TextCodec,
                prompts: [GRPOPrompt], rewards: RewardProvider, tokenizerSource: URL?) throws {
        guard !prompts.isEmpty else { throw config.resolved.invalid("train_file", "has no rows") }
        guard (config.loss.beta == 0) == (reference == nil) else {
            throw config.resolved.invalid("beta", "a reference model is needed exactly when beta != 0")
        }
        self.config = config
        self.policy = policy
        self.reference = reference
        self.codec = codec
        self.prompts = prompts
        self.rewards = rewards
        self.tokenizerSource = tokenizerSource
        dataOrder = DataOrder(count: prompts.count, seed: config.seed)
        optimizer = config.optimizer.optimizer(for: policy)
        schedule = config.optimizer.learningRateSchedule(totalSteps: config.maxSteps)
    }

    var outputDirectory: URL { URL(fileURLWithPath: config.outputDir) }

    /// Trains to max_steps (optimizer steps), from the latest checkpoint when `resume` is set.
    public func run(resume: Bool, stopAt: Int? = nil) throws {
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        if resume {
            state = try TrainingCheckpoint.resume(model: policy, optimizer: optimizer, outputDirectory: outputDirectory)
            log("resumed from checkpoint-\(state.step)")
        } else {
            state = TrainerState(generators: ["sampling": SeededGenerator(seed: UInt64(config.seed))])
        }
        state.config = config.resolved.values
        let metricsLog = try MetricsLog(url: outputDirectory.appendingPathComponent("metrics.jsonl"), resumingAt: resume ? state.step : nil)
        let start = Clock.now(), startStep = state.step
        let bar = ProgressBar(total: config.maxSteps, startTime: start)
        // train_time is wall time minus held-out evaluation: the clock learning curves are drawn against.
        var evaluationTime = 0.0
        func evaluated(_ step: Int, _ evaluate: (Int) -> [String: Double]) -> [String: Double] {
            let t0 = Clock.now()
            var figures = evaluate(step)
            evaluationTime += Clock.now() - t0
            figures["wall_time"] = Clock.now() - start
            figures["train_time"] = Clock.now() - start - evaluationTime
            return figures
        }
        if !resume, let evaluate {
            metricsLog.write(step: 0, evaluated(0, evaluate))
        }
        while state.step < config.maxSteps {
            let generation = try sampleGenerationBatch()
            for _ in 0..<config.numIterations where state.step < config.maxSteps {
                var metrics = optimizerStep(generation)
                state.step += 1
                metrics["wall_time"] = Clock.now() - start
                metrics["train_time"] = Clock.now() - start - evaluationTime
                onStep(state.step, metrics)
                if state.step % config.loggingSteps == 0 || state.step == config.maxSteps {
                    metricsLog.write(step: state.step, metrics)
                    if showProgress { bar.show(bar.line(step: state.step, startStep: startStep, now: Clock.now(), figures: [
                        ("reward", String(format: "%.3f", metrics["reward"] ?? .nan)),
                        ("loss", String(format: "%.4f", metrics["loss"] ?? .nan)),
                        ("kl", String(format: "%.4f", metrics["kl"] ?? 0)),
                        ("len", String(format: "%.1f", metrics["completions/mean_length"] ?? 0)),
                        ("s/step", String(format: "%.2f", metrics["step_time"] ?? 0)),
                    ]), step: state.step) }
                }
                if config.logCompletionsSteps > 0 && state.step % config.logCompletionsSteps == 0 {
                    log(completionTable(generation))
                }
                let last = state.step == config.maxSteps
                if let evaluate, (config.evalSteps > 0 && state.step % config.evalSteps == 0) || last {
                    metricsLog.write(step: state.step, evaluated(state.step, evaluate))
                }
                if state.step % config.saveSteps == 0 || last {
                    try TrainingCheckpoint.save(model: policy, optimizer: optimizer, state: state, outputDirectory: outputDirectory,
                                                tokenizerSource: tokenizerSource, keep: config.saveTotalLimit)
                }
                if let stopAt, state.step >= stopAt { return }
            }
        }
    }

    // MARK: - Generation batch

    /// A scored generation batch: rollouts and the figures measured while making it.
    struct GenerationBatch {
        var rollouts: [Rollout]
        var metrics: [String: Double]
    }

    /// Samples P prompts x G completions, scores them, computes advantages (and reference logprobs).
    /// With dynamic sampling, groups whose rewards are all equal are dropped and more prompts are
    /// sampled, up to max_dynamic_sampling_rounds extra rounds.
    func sampleGenerationBatch() throws -> GenerationBatch {
        let g = config.numGenerations
        var kept: [Rollout] = [], zeroStdGroups = 0, groupsSeen = 0
        var timing = (generate: 0.0, reward: 0.0, reference: 0.0)
        var perFunction: [[Double?]] = [], rewardsOfKept: [Double?] = []
        var rounds = 0
        while kept.count < config.promptsPerStep * g {
            let need = config.dynamicSampling ? config.promptsPerStep - kept.count / g : config.promptsPerStep
            let chosen = nextPrompts(need)
            var t0 = Clock.now()
            var rng = state.generators["sampling"] ?? SeededGenerator(seed: UInt64(config.seed))
            let generator = Generator(model: policy) { [codec] in codec.decode($0) }
            let completions = generator.generate(
                prompts: chosen.flatMap { [[Int32]](repeating: prompts[$0].ids, count: g) },
                config: .init(maxNewTokens: config.maxCompletionLength,
                              sampling: .init(temperature: Float(config.temperature), topK: config.topK, topP: config.topP, minP: config.minP),
                              eosTokenIDs: codec.eosTokenIDs),
                rng: &rng)
            state.generators["sampling"] = rng
            timing.generate += Clock.now() - t0
            t0 = Clock.now()
            let owners = chosen.flatMap { [Int](repeating: $0, count: g) }
            let scores = rewards.score(completions: completions.map(\.text), prompts: owners.map { prompts[$0] })
            let advantages = Advantages.compute(rewardsPerFunction: scores, weights: config.weights, groupSize: g,
                                                scaling: config.scaleRewards)
            let tokenAdvantages = config.processAdvantages
                ? processAdvantages(completions, owners: owners)
                : zip(advantages.advantages, completions).map { a, c in [Double](repeating: a, count: c.ids.count) }
            timing.reward += Clock.now() - t0
            for group in 0..<chosen.count {
                groupsSeen += 1
                let range = (group * g)..<((group + 1) * g)
                let flat = advantages.stdIsZero[range.lowerBound]
                if flat { zeroStdGroups += 1 }
                if config.dynamicSampling && flat && rounds < config.maxDynamicSamplingRounds { continue }
                if kept.count >= config.promptsPerStep * g { break }
                for i in range {
                    kept.append(Rollout(prompt: owners[i], completion: completions[i], advantage: tokenAdvantages[i],
                                        referenceLogprobs: nil,
                                        lossMask: !(config.maskTruncatedCompletions && completions[i].finishReason == .length)))
                    perFunction.append(scores[i])
                    rewardsOfKept.append(advantages.rewards[i])
                }
            }
            rounds += 1
            if !config.dynamicSampling { break }
        }
        if let reference {
            let t0 = Clock.now()
            for chunk in stride(from: 0, to: kept.count, by: config.batchSize) {
                let range = chunk..<min(chunk + config.batchSize, kept.count)
                let batch = makeBatch(Array(kept[range]))
                let lp = reference.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.positions,
                                                 targets: batch.targets, temperature: Float(config.temperature)).logprob.values
                var offset = 0
                for i in range {
                    let n = kept[i].completion.ids.count
                    kept[i].referenceLogprobs = Array(lp[offset..<(offset + n)])
                    offset += n
                }
            }
            timing.reference = Clock.now() - t0
        }
        var metrics = rewardMetrics(perFunction: perFunction, rewards: rewardsOfKept)
        metrics["frac_reward_zero_std"] = Double(zeroStdGroups) / Double(max(groupsSeen, 1))
        let lengths = kept.map { Double($0.completion.ids.count) }
        metrics["completions/mean_length"] = lengths.reduce(0, +) / Double(max(lengths.count, 1))
        metrics["completions/clipped_ratio"] = Double(kept.filter { $0.completion.finishReason == .length }.count) / Double(max(kept.count, 1))
        metrics["time/generate"] = timing.generate
        metrics["time/reward"] = timing.reward
        metrics["time/reference"] = timing.reference
        metrics["completion_tokens"] = lengths.reduce(0, +)
        for (name, count) in rewards.failures { metrics["rewards/\(name)/failures"] = Double(count) }
        return GenerationBatch(rollouts: kept, metrics: metrics)
    }

    /// The next `n` prompt indices in the seeded epoch order.
    func nextPrompts(_ n: Int) -> [Int] {
        dataOrder.next(n, state: &state)
    }

    /// Token advantages from per-step rewards: each step's end (a character offset) is mapped to the
    /// completion token that contains it.
    func processAdvantages(_ completions: [Completion], owners: [Int]) -> [[Double]] {
        guard let steps = rewards.stepScores(completions: completions.map(\.text), prompts: owners.map { prompts[$0] }) else {
            return completions.map { [Double](repeating: 0, count: $0.ids.count) }
        }
        let time = completions.map(\.ids.count).max() ?? 0
        let stepRewards = zip(completions, steps).map { completion, scored -> [StepReward] in
            // Character length of each token prefix, to find the token where a step ends.
            let ends = (1...max(completion.ids.count, 1)).map { codec.decode(Array(completion.ids.prefix($0))).count }
            return scored.map { step in StepReward(endToken: ends.firstIndex { $0 >= step.end } ?? completion.ids.count - 1,
                                                   reward: step.reward) }
        }
        let flat = Advantages.process(steps: stepRewards, groupSize: config.numGenerations, time: max(time, 1))
        return completions.enumerated().map { i, c in Array(flat[(i * max(time, 1))..<(i * max(time, 1) + c.ids.count)]) }
    }

    func rewardMetrics(perFunction: [[Double?]], rewards: [Double?]) -> [String: Double] {
        var metrics: [String: Double] = [:]
        for (f, name) in self.rewards.names.enumerated() {
            let column = perFunction.map { $0[f] }
            metrics["rewards/\(name)/mean"] = Advantages.nanMean(column) ?? .nan
            metrics["rewards/\(name)/std"] = Advantages.nanStd(column) ?? .nan
        }
        metrics["reward"] = Advantages.nanMean(rewards) ?? .nan
        metrics["reward_std"] = Advantages.nanStd(rewards) ?? .nan
        return metrics
    }

    // MARK: - Optimizer step

    /// Token rows for the model, and the flat position predicting each completion token (in rollout
    /// order, token by token).
    struct Batch {
        let input: DecoderModel.Batch
        let positions: [Int]
        let targets: [Int32]
    }

    /// Consecutive rollouts of one prompt (a group) share rows: the prompt once, then each
    /// completion as its own attention segment that sees the prompt and itself (mask 1 for the
    /// prompt, 2, 3, ... for the completions, 0 for padding; positions restart after the prompt).
    /// The logprobs are those of separate prompt + completion rows, and the prompt's tokens go
    /// through the model once per row instead of once per completion. How many completions share a
    /// row is `promptPacking`'s choice.
    func makeBatch(_ rollouts: [Rollout]) -> Batch {
        let rows = packedRows(rollouts)
        let time = max(rows.map { rowTokens($0, of: rollouts) }.max() ?? 0, 1)
        var ids = [Int32](repeating: 0, count: rows.count * time), mask = [Int32](repeating: 0, count: rows.count * time)
        var tokenPositions = [Int32](repeating: 0, count: rows.count * time)
        var predicting = [Int](repeating: 0, count: rollouts.count), starts = [Int](repeating: 0, count: rollouts.count)
        for (b, row) in rows.enumerated() {
            let prompt = prompts[rollouts[row[0]].prompt].ids
            var at = b * time
            for (j, token) in prompt.enumerated() {
                ids[at] = token
                mask[at] = 1
                tokenPositions[at] = Int32(j)
                at += 1
            }
            for (segment, i) in row.enumerated() {
                predicting[i] = b * time + prompt.count - 1  // the prompt's last token predicts each first token
                starts[i] = at
                for (j, token) in rollouts[i].completion.ids.enumerated() {
                    ids[at] = token
                    mask[at] = Int32(segment + 2)
                    tokenPositions[at] = Int32(prompt.count + j)
                    at += 1
                }
            }
        }
        var positions: [Int] = [], targets: [Int32] = []
        for (i, r) in rollouts.enumerated() {
            for (j, token) in r.completion.ids.enumerated() {
                positions.append(j == 0 ? predicting[i] : starts[i] + j - 1)
                targets.append(token)
            }
        }
        return Batch(input: .init(ids: ids, positions: tokenPositions, attentionMask: mask, batch: rows.count, time: time),
                     positions: positions, targets: targets)
    }

    /// The rows `makeBatch` lays out: indices of consecutive rollouts, up to `completionsPerRow`
    /// of one prompt per row.
    func packedRows(_ rollouts: [Rollout]) -> [[Int]] {
        var rows: [[Int]] = []
        var run = 0
        while run < rollouts.count {
            var end = run + 1
            while end < rollouts.count && rollouts[end].prompt == rollouts[run].prompt { end += 1 }
            let lengths = rollouts[run..<end].map(\.completion.ids.count)
            let k = completionsPerRow(prompt: prompts[rollouts[run].prompt].ids.count,
                                      completion: lengths.reduce(0, +) / lengths.count, group: end - run)
            rows += stride(from: run, to: end, by: k).map { Array($0..<min($0 + k, end)) }
            run = end
        }
        return rows
    }

    /// Tokens of a packed row: its prompt once, then its completions.
    func rowTokens(_ row: [Int], of rollouts: [Rollout]) -> Int {
        prompts[rollouts[row[0]].prompt].ids.count + row.reduce(0) { $0 + rollouts[$1].completion.ids.count }
    }

    /// How `makeBatch` packs a group's completions into rows that share the prompt.
    public enum PromptPacking: Equatable {
        /// One row per rollout: prompt + completion.
        case none
        /// The completions per row that make the pass cheapest (`completionsPerRow`).
        case automatic
        /// At most this many completions per row.
        case completions(Int)
    }
    public var promptPacking = PromptPacking.automatic

    /// Completions per row for a group of `group` completions of about `c` tokens after a prompt
    /// of `p`: the k minimising ceil(group / k) rows x T (matmul + 2 attention(T)) multiply-adds
    /// for rows of T = p + k c tokens. Packing saves the prompt's repeats, but attention over a
    /// row costs the square of its length (and runs at about half the matmuls' rate here, hence 2).
    func completionsPerRow(prompt p: Int, completion c: Int, group: Int) -> Int {
        switch promptPacking {
        case .none: return 1
        case .completions(let k): return max(1, k)
        case .automatic:
            func cost(_ k: Int) -> Double {
                let t = p + k * max(c, 1)
                let macs = policy.config.forwardMACsPerToken(time: t)
                return Double((group + k - 1) / k) * Double(t) * Double(macs.matmul + 2 * macs.attention)
            }
            return (1...max(group, 1)).min { cost($0) < cost($1) } ?? 1
        }
    }

    /// Whether a rollout's loss and gradient are exactly zero, so the policy pass can skip it: a
    /// masked (truncated) completion, or, with beta = 0, one whose advantage is 0 at every token
    /// (-min(r A, clip(r) A) = 0 for any ratio). Its tokens still count in every normaliser.
    func addsNothing(_ r: Rollout) -> Bool {
        !r.lossMask || (config.loss.beta == 0 && r.advantage.allSatisfy { $0 == 0 })
    }

    /// One optimizer step over the generation batch's mini-batches; returns the step's metrics.
    func optimizerStep(_ generation: GenerationBatch) -> [String: Double] {
        let stepStart = Clock.now()
        policy.parameters.zeroGrad()
        let rollouts = generation.rollouts
        let activeTokens = rollouts.reduce(0.0) { $0 + ($1.lossMask ? Double($1.completion.ids.count) : 0) }
        let miniBatches = config.gradientAccumulationSteps
        let normalization = LossNormalization(accumulationSteps: miniBatches, stepsPerGeneration: miniBatches,
                                              activeTokensInGeneration: activeTokens)
        let per = rollouts.count / miniBatches
        let sequenceLevel = config.loss.importanceSampling == .sequence
        var loss = 0.0, entropyTotal = 0.0
        var clip = (low: 0.0, high: 0.0, region: 0.0), klTotal = 0.0
        var policyTime = 0.0, mismatch = 0.0, skipped = 0
        let firstPass = state.step % config.numIterations == 0
        for m in 0..<miniBatches {
            let part = Array(rollouts[(m * per)..<min((m + 1) * per, rollouts.count)])
            let tokens = part.reduce(0.0) { $0 + ($1.lossMask ? Double($1.completion.ids.count) : 0) }
            var sliceNormalization = normalization
            sliceNormalization.miniBatch = (part.count, tokens)
            // Skipped rollouts add nothing to loss, gradient or clip counts; their entropy is the sampler's.
            let forwarded = skipsZeroGradientRollouts ? part.filter { !addsNothing($0) } : part
            for r in part where skipsZeroGradientRollouts && addsNothing(r) && r.lossMask {
                entropyTotal += r.completion.entropies.reduce(0.0) { $0 + Double($1) }
            }
            skipped += part.count - forwarded.count
            // Slices of whole completions bound the tape's activation memory; each gets its exact
            // share of the loss, so the gradient equals the whole mini-batch's.
            for slice in slices(of: forwarded) {
                let t0 = Clock.now()
                let batch = makeBatch(slice)
                let tape = Tape()
                let (lp, entropy) = policy.tokenLogprobs(tape, batch.input, positions: batch.positions, targets: batch.targets,
                                                         temperature: Float(config.temperature))
                let input = lossInput(slice, current: lp.values)
                if firstPass {
                    // The sampler's logprobs are pi_old; before any update they must equal the tape's.
                    for (k, keep) in zip(input.packedIndices, input.tokenMask) where keep {
                        mismatch = max(mismatch, abs(input.loss.logps[k] - input.loss.oldLogps[k]))
                    }
                }
                let result = PolicyLoss.compute(input.loss, config: config.loss, normalization: sliceNormalization)
                // Seed d loss / d logp into the tape, in the packed order of `positions`.
                tape.backward(lp, seed: input.unpack(result.gradient).map { Float($0) })
                policyTime += Clock.now() - t0
                loss += result.loss
                // Clip fractions are over all completions (sequence level) or active tokens of the batch.
                let tokenShare = Double(input.tokenMask.filter { $0 }.count) / max(activeTokens, 1)
                let weight = sequenceLevel ? Double(slice.count) / Double(rollouts.count) : tokenShare
                clip.low += result.clipLow * weight
                clip.high += result.clipHigh * weight
                clip.region += result.clipRegion * weight
                klTotal += (result.kl ?? 0) * tokenShare
                for (e, keep) in zip(entropy.values, input.tokenMask) where keep { entropyTotal += Double(e) }
            }
        }
        let t0 = Clock.now()
        let gradNorm = config.optimizer.clip(policy.parameters)
        let lr = schedule.rate(config.optimizer.learningRate, step: state.step)
        optimizer.update(lr: lr)
        let optimizerTime = Clock.now() - t0
        var metrics = generation.metrics
        metrics["loss"] = loss
        metrics["grad_norm"] = gradNorm
        metrics["learning_rate"] = lr
        metrics["entropy"] = entropyTotal / max(activeTokens, 1)
        metrics["frac_policy_skipped"] = Double(skipped) / Double(max(rollouts.count, 1))
        metrics["clip_ratio/low_mean"] = clip.low
        metrics["clip_ratio/high_mean"] = clip.high
        metrics["clip_ratio/region_mean"] = clip.region
        if config.loss.beta != 0 { metrics["kl"] = klTotal }
        metrics["time/policy"] = policyTime
        if firstPass { metrics["logprob_mismatch"] = mismatch }
        metrics["time/optimizer"] = optimizerTime
        // The first optimizer step of a generation batch carries its sampling time.
        let sampling = (generation.metrics["time/generate"] ?? 0) + (generation.metrics["time/reward"] ?? 0)
            + (generation.metrics["time/reference"] ?? 0)
        let stepTime = Clock.now() - stepStart + (state.step % config.numIterations == 0 ? sampling : 0)
        metrics["step_time"] = stepTime
        metrics["tokens_per_second"] = (generation.metrics["completion_tokens"] ?? 0) / stepTime
        return metrics
    }

    /// Consecutive runs of whole packed rows (`packedRows`) holding about `policySliceTokens`
    /// tokens each.
    func slices(of part: [Rollout]) -> [[Rollout]] {
        var slices: [[Rollout]] = [], current: [Rollout] = [], tokens = 0
        for row in packedRows(part) {
            let n = rowTokens(row, of: part)
            if !current.isEmpty && tokens + n > policySliceTokens {
                slices.append(current)
                current = []
                tokens = 0
            }
            current += row.map { part[$0] }
            tokens += n
        }
        if !current.isEmpty { slices.append(current) }
        return slices
    }

    /// Whether the policy pass leaves out rollouts whose loss and gradient are exactly zero
    /// (`addsNothing`); the step's gradient and metrics are the same either way.
    public var skipsZeroGradientRollouts = true

    /// Tokens per forward/backward slice: bounds activation memory (about 31 KB per token for the
    /// tiny preset) without changing the loss.
    public var policySliceTokens = 1024

    /// The PolicyLoss input of a mini-batch (completions padded to its longest), and how to map its
    /// gradient back to the packed per-token order of the tape's logprobs.
    func lossInput(_ part: [Rollout], current: [Float])
        -> (loss: PolicyLossInput, unpack: ([Double]) -> [Double], tokenMask: [Bool], packedIndices: [Int]) {
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
        return (input, { gradient in packed.map { gradient[$0] } }, tokenMask, packed)
    }

    /// A few sample completions with their rewards, as a text table.
    func completionTable(_ generation: GenerationBatch) -> String {
        let sample = generation.rollouts.prefix(4)
        var lines = ["step \(state.step): sample completions"]
        for r in sample {
            let prompt = prompts[r.prompt].text.replacingOccurrences(of: "\n", with: " ")
            let text = r.completion.text.replacingOccurrences(of: "\n", with: " ")
            lines.append(String(format: "  A %+.2f | %@ | %@", r.advantage.first ?? 0, String(prompt.suffix(40)), String(text.prefix(60))))
        }
        return lines.joined(separator: "\n")
    }
}
