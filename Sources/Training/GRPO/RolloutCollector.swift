import Generation
import Rewards
import TensorCore
import Transformer

/// Steps 1-3 of a GRPO step: sample G completions for each of P prompts from the current policy
/// (recording the sampling logprobs, pi_old), score them with the reward functions, compute
/// group-relative advantages (`Advantages`), and with beta != 0 score them under the frozen
/// reference. With dynamic sampling, groups whose rewards are all equal are dropped and more
/// prompts are sampled, up to max_dynamic_sampling_rounds extra rounds.
struct RolloutCollector {
    let config: GRPOConfig
    let policy: DecoderModel
    let reference: DecoderModel?
    let codec: TextCodec
    let prompts: [TrainingPrompt]
    let rewards: RewardScorer
    let packer: RowPacker

    func collect(_ run: TrainingRun) throws -> GenerationBatch {
        if run.isDataParallel && !config.dynamicSampling { return try collectShare(run) }
        let g = config.numGenerations, p = config.promptsPerStep
        var kept: [Rollout] = [], keptScores: [RewardBatch] = [], keptRewards: [Double?] = []
        var zeroStdGroups = 0, groupsSeen = 0, rounds = 0, judgedAny = false
        var timing = (generate: 0.0, reward: 0.0, reference: 0.0)
        while kept.count < p * g {
            let chosen = run.nextRows(config.dynamicSampling ? p - kept.count / g : p)
            var t0 = Clock.now()
            let completions = sample(chosen, run)
            timing.generate += Clock.now() - t0
            t0 = Clock.now()
            let owners = chosen.flatMap { [Int](repeating: $0, count: g) }
            let scores = try rewards.score(completions: completions.map(\.text), prompts: owners.map { prompts[$0] }, log: run.log)
            let advantages = Advantages.compute(rewardsPerFunction: scores.perCompletion, weights: scores.weights, groupSize: g,
                                                scaling: config.scaleRewards)
            judgedAny = judgedAny || advantages.rewards.contains { $0 != nil }
            let tokenAdvantages = config.advantage == .process
                ? processAdvantages(completions, steps: scores.processSteps ?? completions.map { _ in [] })
                : zip(advantages.advantages, completions).map { a, c in [Double](repeating: a, count: c.ids.count) }
            timing.reward += Clock.now() - t0
            var keptHere: [Int] = []
            for group in 0..<chosen.count {
                groupsSeen += 1
                let range = (group * g)..<((group + 1) * g)
                let flat = advantages.stdIsZero[range.lowerBound]
                if flat { zeroStdGroups += 1 }
                if config.dynamicSampling && flat && rounds < config.maxDynamicSamplingRounds { continue }
                if kept.count >= p * g { break }
                for i in range {
                    kept.append(Rollout(prompt: owners[i], completion: completions[i], scores: scores.scores.map { $0[i] },
                                        reward: advantages.rewards[i], advantage: tokenAdvantages[i], referenceLogprobs: nil,
                                        lossMask: !(config.maskTruncatedCompletions && completions[i].finishReason == .length)))
                    keptHere.append(i)
                    keptRewards.append(advantages.rewards[i])
                }
            }
            keptScores.append(scores.selecting(keptHere))
            rounds += 1
            if !config.dynamicSampling { break }
        }
        try rewards.recordStep(judgedAny: judgedAny)
        if let reference {
            let t0 = Clock.now()
            addReferenceLogprobs(&kept, reference)
            timing.reference = Clock.now() - t0
        }
        var metrics = (RewardBatch.concatenating(keptScores)?.metrics ?? [:]).merging(rewards.metrics) { a, _ in a }
        metrics["reward"] = NaNStatistics.mean(keptRewards) ?? .nan
        metrics["reward_std"] = NaNStatistics.std(keptRewards) ?? .nan
        metrics["frac_reward_zero_std"] = Double(zeroStdGroups) / Double(max(groupsSeen, 1))
        let lengths = kept.map { Double($0.completion.ids.count) }
        metrics["completions/mean_length"] = lengths.reduce(0, +) / Double(max(lengths.count, 1))
        metrics["completions/clipped_ratio"] = Double(kept.filter { $0.completion.finishReason == .length }.count) / Double(max(kept.count, 1))
        metrics["time/generate"] = timing.generate
        metrics["time/reward"] = timing.reward
        metrics["time/reference"] = timing.reference
        metrics["completion_tokens"] = lengths.reduce(0, +)
        return GenerationBatch(rollouts: kept, metrics: metrics)
    }

    /// G completions of each chosen prompt, with the run's checkpointed sampling generator.
    func sample(_ chosen: [Int], _ run: TrainingRun) -> [Completion] {
        let r = config.rollout
        let generator = Generator(model: policy) { [codec] in codec.decode($0) }
        return run.withGenerator("sampling", seed: UInt64(config.training.seed)) { rng in
            generator.generate(
                prompts: chosen.flatMap { [[Int32]](repeating: prompts[$0].ids, count: config.numGenerations) },
                config: .init(maxNewTokens: r.maxCompletionLength,
                              sampling: .init(temperature: Float(r.temperature), topK: r.topK, topP: r.topP, minP: r.minP),
                              eosTokenIDs: codec.eosTokenIDs),
                rng: &rng)
        }
    }

    /// The frozen reference's logprobs of each rollout's tokens, per_device_train_batch_size rollouts a pass.
    func addReferenceLogprobs(_ rollouts: inout [Rollout], _ reference: DecoderModel) {
        let size = config.training.batchSize
        for chunk in stride(from: 0, to: rollouts.count, by: size) {
            let range = chunk..<min(chunk + size, rollouts.count)
            let batch = packer.makeBatch(Array(rollouts[range]))
            let lp = reference.tokenLogprobs(Tape(recording: false), batch.input, positions: batch.positions,
                                             targets: batch.targets, temperature: Float(config.rollout.temperature)).logprob.values
            var offset = 0
            for i in range {
                let n = rollouts[i].completion.ids.count
                rollouts[i].referenceLogprobs = Array(lp[offset..<(offset + n)])
                offset += n
            }
        }
    }

    /// Token advantages from a process reward's step scores: each step's end (a character offset)
    /// is mapped to the completion token that contains it.
    func processAdvantages(_ completions: [Completion], steps: [[(end: Int, reward: Double)]]) -> [[Double]] {
        let time = max(completions.map(\.ids.count).max() ?? 0, 1)
        let stepRewards = zip(completions, steps).map { completion, scored -> [StepReward] in
            // Character length of each token prefix, to find the token where a step ends.
            let ends = (1...max(completion.ids.count, 1)).map { codec.decode(Array(completion.ids.prefix($0))).count }
            return scored.map { step in StepReward(endToken: ends.firstIndex { $0 >= step.end } ?? completion.ids.count - 1,
                                                   reward: step.reward) }
        }
        let flat = Advantages.process(steps: stepRewards, groupSize: config.numGenerations, time: time)
        return completions.enumerated().map { i, c in Array(flat[(i * time)..<(i * time + c.ids.count)]) }
    }
}
