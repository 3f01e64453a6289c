import Rewards

/// Group-relative advantages (GRPO), with TRL 1.16's conventions.
///
/// Rewards of several functions are combined with weights by a NaN-aware sum (a nil reward is
/// "cannot judge", never a fake 0). A completion that no function could judge is left out of the
/// group statistics and gets advantage 0. Then, per group of G completions of one prompt:
///
///     group:  A = (r - mean_group) / (std_group + 1e-4)     (Bessel-corrected std)
///     batch:  A = (r - mean_group) / (std_batch + 1e-4)
///     none:   A =  r - mean_group                            (Dr. GRPO)
///
/// A group with fewer than two judged completions has no std: its advantages are 0.
public enum RewardScaling: String, Sendable, Codable, CaseIterable {
    case group, batch, none
}

public struct AdvantageResult: Equatable, Sendable {
    /// One advantage per completion (N).
    public var advantages: [Double]
    /// The combined reward of each completion; nil where no function could judge it.
    public var rewards: [Double?]
    /// Per completion: whether its group's (or, for `batch`, the batch's) std is zero; for logging
    /// frac_reward_zero_std.
    public var stdIsZero: [Bool]

    public var fractionZeroStd: Double {
        stdIsZero.isEmpty ? 0 : Double(stdIsZero.filter { $0 }.count) / Double(stdIsZero.count)
    }
}

public enum Advantages {
    /// - rewardsPerFunction: N completions x F functions, grouped: completions g*G ..< (g+1)*G share a prompt.
    /// - weights: F function weights.
    public static func compute(rewardsPerFunction: [[Double?]], weights: [Double], groupSize: Int,
                               scaling: RewardScaling) -> AdvantageResult {
        precondition(groupSize > 0 && rewardsPerFunction.count % groupSize == 0,
                     "Advantages: \(rewardsPerFunction.count) completions do not form groups of \(groupSize)")
        let rewards: [Double?] = rewardsPerFunction.map { row in
            precondition(row.count == weights.count, "Advantages: \(row.count) rewards for \(weights.count) weights")
            let judged = zip(row, weights).compactMap { r, w in r.map { $0 * w } }
            return judged.isEmpty ? nil : judged.reduce(0, +)
        }
        let n = rewards.count
        var advantages = [Double](repeating: 0, count: n)
        var stdIsZero = [Bool](repeating: false, count: n)
        let batchStd = NaNStatistics.std(rewards)
        for start in stride(from: 0, to: n, by: groupSize) {
            let group = Array(rewards[start..<(start + groupSize)])
            let mean = NaNStatistics.mean(group)
            let std = scaling == .batch ? batchStd : (groupSize > 1 ? NaNStatistics.std(group) : 0)
            for i in start..<(start + groupSize) {
                stdIsZero[i] = std.map { abs($0) <= 1e-8 } ?? false
                guard let r = rewards[i], let mean else { continue }
                var a = r - mean
                if scaling != .none {
                    guard let std else { continue }  // undefined std: advantage 0, as TRL's nan_to_num
                    a /= std + 1e-4
                }
                advantages[i] = a
            }
        }
        return AdvantageResult(advantages: advantages, rewards: rewards, stdIsZero: stdIsZero)
    }
}

/// A per-step score from a process reward: the step ends at completion token `endToken` (inclusive).
public struct StepReward: Sendable, Equatable {
    public var endToken: Int
    public var reward: Double

    public init(endToken: Int, reward: Double) {
        self.endToken = endToken
        self.reward = reward
    }
}

extension Advantages {
    /// DeepSeekMath's process supervision: step rewards are normalised over all steps of all
    /// completions in the group, (r - mean) / (std + 1e-4), and token t's advantage is the sum of the
    /// normalised rewards of the steps that end at or after t.
    ///
    /// - steps: per completion (N, grouped by G), its scored steps.
    /// - returns: N x time per-token advantages (0 past the last step, and for groups with fewer
    ///   than two steps).
    public static func process(steps: [[StepReward]], groupSize: Int, time: Int) -> [Double] {
        precondition(groupSize > 0 && steps.count % groupSize == 0,
                     "Advantages.process: \(steps.count) completions do not form groups of \(groupSize)")
        var advantages = [Double](repeating: 0, count: steps.count * time)
        for start in stride(from: 0, to: steps.count, by: groupSize) {
            let all = steps[start..<(start + groupSize)].flatMap { $0.map { Optional($0.reward) } }
            guard let mean = NaNStatistics.mean(all), let std = NaNStatistics.std(all) else { continue }
            for i in start..<(start + groupSize) {
                for step in steps[i] {
                    let normalized = (step.reward - mean) / (std + 1e-4)
                    for t in 0...min(max(step.endToken, 0), time - 1) { advantages[i * time + t] += normalized }
                }
            }
        }
        return advantages
    }
}
