import Foundation

/// PPO's rollout math with the semantics of TRL's PPOTrainer (TRL 1.12, the last with it:
/// trl/experimental/ppo/ppo_trainer.py, `train`, lines 755-798), on B responses padded to T tokens
/// (row-major B x T, Float64). Notation as TRL's: L_i is the index of row i's last real token (its
/// stop token included; -1 for an empty response), not a count.
///
///     valid[i,t]   = t <= L_i          the policy's tokens   (TRL: ~padding_mask)
///     validP1[i,t] = t <= L_i + 1      the value's positions (~padding_mask_p1: one longer)
///     logp, ref    = 1.0 where not valid (INVALID_LOGPROB), so the KL there is 0
///     value        = 0 where not validP1
///     kl           = logp - ref (k1), or (exp(ref - logp) - 1) - (ref - logp) (k3)
///     reward[i,t]  = -kl_coef * kl[i,t];  reward[i, e_i] += score_i,  e_i = L_i + 1 if < T else L_i
///     (whiten_rewards: reward = whiten(reward over validP1, mean kept), 0 where not validP1)
///     delta_t      = reward_t + gamma * value_{t+1} - value_t   (value_T = 0)
///     A_t          = delta_t + gamma * lam * A_{t+1}            (backwards over every t < T)
///     returns      = A + value                                  (before A is whitened)
///     advantages   = whiten(A over valid), 0 where not valid
///
/// whiten(x) = (x - mean) / sqrt(var + 1e-8) with the masked mean and the unbiased (N / (N - 1))
/// masked variance over the whole rollout batch (TRL's masked_whiten).
public enum PPOMath {
    /// TRL's INVALID_LOGPROB: what masked logprobs are set to.
    public static let invalidLogprob = 1.0

    public enum KLEstimator: String, SettingChoice, Sendable {
        case k1, k3
    }

    public struct Settings: Sendable, Equatable {
        public var klCoef = 0.05
        public var klEstimator = KLEstimator.k1
        public var gamma = 1.0
        public var lam = 0.95
        public var whitenRewards = false

        public init() {}
    }

    /// A scored rollout batch: B rows of T tokens.
    public struct Rollout: Sendable {
        public var rows: Int, time: Int
        /// L_i per row.
        public var lastIndex: [Int]
        /// Sampling logprobs, reference logprobs and values at every position, before masking (B x T).
        public var logprobs: [Double], refLogprobs: [Double], values: [Double]
        /// One score per row (after any missing-eos penalty).
        public var scores: [Double]

        public init(rows: Int, time: Int, lastIndex: [Int], logprobs: [Double], refLogprobs: [Double], values: [Double], scores: [Double]) {
            self.rows = rows
            self.time = time
            self.lastIndex = lastIndex
            self.logprobs = logprobs
            self.refLogprobs = refLogprobs
            self.values = values
            self.scores = scores
        }

        public func valid(_ i: Int, _ t: Int) -> Bool { t <= lastIndex[i] }
        public func validP1(_ i: Int, _ t: Int) -> Bool { t <= lastIndex[i] + 1 }
        /// 1 where valid (B x T).
        public var validMask: [Double] { (0..<(rows * time)).map { valid($0 / time, $0 % time) ? 1 : 0 } }
        public var validP1Mask: [Double] { (0..<(rows * time)).map { validP1($0 / time, $0 % time) ? 1 : 0 } }
    }

    /// Everything the optimisation epochs read, and the figures TRL logs from the rollout.
    public struct Processed: Sendable {
        public var logprobs: [Double], refLogprobs: [Double], values: [Double]
        public var kl: [Double], nonScoreReward: [Double]
        /// e_i: where each row's score was added.
        public var scoreIndex: [Int]
        public var rewards: [Double], advantages: [Double], returns: [Double]
        /// objective/kl, objective/entropy, objective/non_score_reward, objective/rlhf_reward, objective/scores.
        public var metrics: [String: Double]
    }

    public static func process(_ r: Rollout, _ s: Settings) -> Processed {
        let (b, t) = (r.rows, r.time)
        let valid = r.validMask, validP1 = r.validP1Mask
        let logprobs = zip(r.logprobs, valid).map { $1 != 0 ? $0 : invalidLogprob }
        let ref = zip(r.refLogprobs, valid).map { $1 != 0 ? $0 : invalidLogprob }
        let values = zip(r.values, validP1).map { $1 != 0 ? $0 : 0 }
        let kl = zip(logprobs, ref).map { lp, rf -> Double in
            let logr = rf - lp
            return s.klEstimator == .k1 ? -logr : (exp(logr) - 1) - logr
        }
        let nonScore = kl.map { -s.klCoef * $0 }
        var rewards = nonScore
        let scoreIndex = r.lastIndex.map { $0 + 1 < t ? $0 + 1 : $0 }
        for i in 0..<b { rewards[i * t + max(scoreIndex[i], 0)] += r.scores[i] }
        if s.whitenRewards {
            rewards = zip(maskedWhiten(rewards, mask: validP1, shiftMean: false), validP1).map { $1 != 0 ? $0 : 0 }
        }
        var advantages = [Double](repeating: 0, count: b * t)
        for i in 0..<b {
            var last = 0.0
            for j in stride(from: t - 1, through: 0, by: -1) {
                let next = j < t - 1 ? values[i * t + j + 1] : 0
                let delta = rewards[i * t + j] + s.gamma * next - values[i * t + j]
                last = delta + s.gamma * s.lam * last
                advantages[i * t + j] = last
            }
        }
        let returns = zip(advantages, values).map(+)
        advantages = zip(maskedWhiten(advantages, mask: valid, shiftMean: true), valid).map { $1 != 0 ? $0 : 0 }
        func rowSumMean(_ x: [Double]) -> Double {
            (0..<b).reduce(0.0) { $0 + x[($1 * t)..<(($1 + 1) * t)].reduce(0, +) } / Double(max(b, 1))
        }
        let scoreMean = r.scores.reduce(0, +) / Double(max(b, 1))
        let metrics = [
            "objective/kl": rowSumMean(kl),
            "objective/entropy": rowSumMean(zip(logprobs, valid).map { -$0 * $1 }),
            "objective/non_score_reward": rowSumMean(nonScore),
            "objective/rlhf_reward": rowSumMean(nonScore) + scoreMean,
            "objective/scores": scoreMean,
        ]
        return Processed(logprobs: logprobs, refLogprobs: ref, values: values, kl: kl, nonScoreReward: nonScore, scoreIndex: scoreIndex,
                         rewards: rewards, advantages: advantages, returns: returns, metrics: metrics)
    }

    /// sum(x m) / sum(m) (0 when nothing is masked in).
    public static func maskedMean(_ x: [Double], mask: [Double]) -> Double {
        let n = mask.reduce(0, +)
        return n == 0 ? 0 : zip(x, mask).reduce(0) { $0 + $1.0 * $1.1 } / n
    }

    /// (x - mean) / sqrt(var + 1e-8) over the masked entries (unbiased variance), with the mean
    /// added back when `shiftMean` is false. With fewer than two entries (where TRL divides by
    /// zero) x is returned unchanged.
    public static func maskedWhiten(_ x: [Double], mask: [Double], shiftMean: Bool) -> [Double] {
        let n = mask.reduce(0, +)
        guard n >= 2 else { return x }
        let mean = maskedMean(x, mask: mask)
        let variance = maskedMean(x.map { ($0 - mean) * ($0 - mean) }, mask: mask) * n / (n - 1)
        let scale = 1 / (variance + 1e-8).squareRoot()
        return x.map { ($0 - mean) * scale + (shiftMean ? 0 : mean) }
    }
}

extension PPOMath {
    /// Scores minus `penalty` for each response without the eos token (TRL's missing_eos_penalty).
    public static func penalized(_ scores: [Double], containsEOS: [Bool], penalty: Double?) -> [Double] {
        guard let penalty else { return scores }
        return zip(scores, containsEOS).map { $1 ? $0 : $0 - penalty }
    }
}
