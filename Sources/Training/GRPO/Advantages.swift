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
        let batchStd = nanStd(rewards)
        for start in stride(from: 0, to: n, by: groupSize) {
            let group = Array(rewards[start..<(start + groupSize)])
            let mean = nanMean(group)
            let std = scaling == .batch ? batchStd : (groupSize > 1 ? nanStd(group) : 0)
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

    /// Mean of the non-nil values, nil if none.
    static func nanMean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
    }

    /// Bessel-corrected standard deviation of the non-nil values, nil with fewer than two.
    static func nanStd(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        guard present.count > 1 else { return nil }
        let mean = present.reduce(0, +) / Double(present.count)
        let variance = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(present.count - 1)
        return variance.squareRoot()
    }
}
