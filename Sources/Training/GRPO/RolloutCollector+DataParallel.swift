import Collectives
import Generation
import Rewards
import TensorCore
import Transformer

/// A generation batch split over ranks: every rank draws the same P prompts and takes P / N
/// whole groups (a group's G completions never split, so its advantages stay on one rank). Each
/// row samples from its own stream (seeded from the run's sampling generator and the row's index
/// in the whole batch), so a rank's completions are the ones one process would sample for the
/// same rows. The scores are gathered so that advantages (scale_rewards=batch too), reward metrics
/// and lengths are the whole batch's on every rank.
extension RolloutCollector {
    func collectShare(_ run: TrainingRun) throws -> GenerationBatch {
        let comm = run.communicator, g = config.numGenerations, p = config.promptsPerStep
        let chosen = run.nextRows(p)
        let groups = DataParallel.share(of: p, rank: comm.rank, size: comm.size)
        let rows = (groups.lowerBound * g)..<(groups.upperBound * g)
        var t0 = Clock.now()
        let completions = sampleRows(Array(chosen[groups]), firstRow: rows.lowerBound, run)
        let generateTime = Clock.now() - t0
        t0 = Clock.now()
        let owners = chosen[groups].flatMap { [Int](repeating: $0, count: g) }
        let scores = try rewards.score(completions: completions.map(\.text), prompts: owners.map { prompts[$0] }, log: run.log)
        let all = try scores.gathered(comm)  // F rewards x P*G completions
        let advantages = Advantages.compute(rewardsPerFunction: all.perCompletion, weights: all.weights, groupSize: g,
                                            scaling: config.scaleRewards)
        let tokenAdvantages = config.advantage == .process
            ? processAdvantages(completions, steps: scores.processSteps ?? completions.map { _ in [] })
            : zip(advantages.advantages[rows], completions).map { a, c in [Double](repeating: a, count: c.ids.count) }
        let rewardTime = Clock.now() - t0
        var rollouts = completions.indices.map { i in
            Rollout(prompt: owners[i], completion: completions[i], scores: scores.scores.map { $0[i] }, reward: advantages.rewards[rows.lowerBound + i],
                    advantage: tokenAdvantages[i], referenceLogprobs: nil,
                    lossMask: !(config.maskTruncatedCompletions && completions[i].finishReason == .length))
        }
        try rewards.recordStep(judgedAny: advantages.rewards.contains { $0 != nil })
        var referenceTime = 0.0
        if let reference {
            let t0 = Clock.now()
            addReferenceLogprobs(&rollouts, reference)
            referenceTime = Clock.now() - t0
        }
        // Every rank's lengths and truncations, in batch order.
        let lengths = try comm.allgather(completions.map { Double($0.ids.count) }).flatMap { $0 }
        let clipped = try comm.allgather(completions.map { $0.finishReason == .length ? 1.0 : 0 }).flatMap { $0 }
        let slowest = try comm.allreduce([generateTime, rewardTime, referenceTime], .max)
        var metrics = all.metrics.merging(try rewards.metrics(summedOver: comm)) { a, _ in a }
        metrics["reward"] = NaNStatistics.mean(advantages.rewards) ?? .nan
        metrics["reward_std"] = NaNStatistics.std(advantages.rewards) ?? .nan
        metrics["frac_reward_zero_std"] = Double(stride(from: 0, to: p * g, by: g).filter { advantages.stdIsZero[$0] }.count) / Double(max(p, 1))
        metrics["completions/mean_length"] = lengths.reduce(0, +) / Double(max(lengths.count, 1))
        metrics["completions/clipped_ratio"] = clipped.reduce(0, +) / Double(max(clipped.count, 1))
        metrics["time/generate"] = slowest[0]
        metrics["time/reward"] = slowest[1]
        metrics["time/reference"] = slowest[2]
        metrics["completion_tokens"] = lengths.reduce(0, +)
        return GenerationBatch(rollouts: rollouts, metrics: metrics, share: (rows.lowerBound, p * g))
    }

    /// G completions of each chosen prompt, row i of the whole batch (`firstRow` + its index here)
    /// drawing from a stream seeded by one draw of the run's sampling generator and i.
    func sampleRows(_ chosen: [Int], firstRow: Int, _ run: TrainingRun) -> [Completion] {
        let r = config.rollout
        let base = run.withGenerator("sampling", seed: UInt64(config.training.seed)) { $0.next() }
        var streams = (0..<(chosen.count * config.numGenerations)).map { SeededGenerator(seed: base &+ UInt64(firstRow + $0)) }
        let generator = Generator(model: policy) { [codec] in codec.decode($0) }
        return generator.generate(
            prompts: chosen.flatMap { [[Int32]](repeating: prompts[$0].ids, count: config.numGenerations) },
            config: .init(maxNewTokens: r.maxCompletionLength,
                          sampling: .init(temperature: Float(r.temperature), topK: r.topK, topP: r.topP, minP: r.minP),
                          eosTokenIDs: codec.eosTokenIDs),
            rowStreams: &streams)
    }
}
