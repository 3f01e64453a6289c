#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The GRPO policy loss on per-token log-probabilities, with TRL 1.16's semantics, and its exact
/// gradient with respect to the current log-probabilities (seeded into the model's tape).
///
/// Per token t of completion i (all in Float64):
///
///     log w   = logp - logp_old                      token level
///             = sum_t m (logp - logp_old) / max(sum_t m, 1)   sequence level (GSPO), one per completion
///     r       = exp(log w)
///     r_clip  = clamp(r, 1 - epsilon, 1 + epsilon_high)
///     r'      = min(r, delta) if delta is set (two-sided clip of the unclipped term), else r
///     L       = -min(r' A, r_clip A) + beta * KL * (r if bias-corrected else 1)
///     KL      = exp(ref - logp) - (ref - logp) - 1   (k3; k1 = logp - ref; k2 = (logp - ref)^2 / 2)
///
/// Aggregation (`loss_type`), with S = gradient-accumulation steps:
///     grpo    mean over completions of sum_t m L / max(sum_t m, 1), / S
///     bnpo    sum m L / max(sum m, 1), / S
///     dr_grpo sum m L / (completions x max_completion_length), / S
///     dapo    sum m L / (active tokens of the whole generation batch x S / steps_per_generation)
public enum PolicyLossType: String, Sendable, Codable, CaseIterable {
    case grpo, bnpo, drGRPO = "dr_grpo", dapo
}

public enum ImportanceSamplingLevel: String, Sendable, Codable, CaseIterable {
    case token, sequence
}

public enum KLEstimator: String, Sendable, Codable, CaseIterable {
    case k1, k2, k3

    /// The estimate and its derivative with respect to logp, from d = ref - logp.
    @inline(__always)
    func value(ref: Double, logp: Double) -> (kl: Double, dLogp: Double) {
        let d = ref - logp
        switch self {
        case .k1: return (-d, 1)
        case .k2: return (0.5 * d * d, -d)
        case .k3: return (exp(d) - d - 1, 1 - exp(d))
        }
    }
}

public struct PolicyLossConfig: Sendable, Equatable {
    public var lossType: PolicyLossType = .dapo
    public var epsilon: Double = 0.2
    public var epsilonHigh: Double = 0.2
    public var delta: Double? = nil
    public var beta: Double = 0
    public var klEstimator: KLEstimator = .k3
    /// Multiply the KL term by the importance ratio (TRL 1.16's `use_bias_correction_kl`, default on there and here).
    public var klBiasCorrection = true
    public var importanceSampling: ImportanceSamplingLevel = .token
    public var maxCompletionLength: Int = 256

    public init() {}
}

/// How the loss is spread over the mini-batches of one generation batch.
public struct LossNormalization: Sendable, Equatable {
    /// Mini-batches accumulated into one optimizer step.
    public var accumulationSteps: Int = 1
    /// Mini-batches per generation batch (TRL's steps_per_generation).
    public var stepsPerGeneration: Int = 1
    /// Completion tokens (mask sum) of the whole generation batch, for `dapo`.
    public var activeTokensInGeneration: Double = 1
    /// When the input is a slice of whole completions of a larger mini-batch (to bound activation
    /// memory): that mini-batch's completion count and mask sum, so each slice gets its exact share
    /// of the `grpo`, `bnpo` and `dr_grpo` normalisers. Nil: the input is the whole mini-batch.
    public var miniBatch: (completions: Int, tokens: Double)? = nil

    public init(accumulationSteps: Int = 1, stepsPerGeneration: Int = 1, activeTokensInGeneration: Double = 1,
                miniBatch: (completions: Int, tokens: Double)? = nil) {
        self.accumulationSteps = accumulationSteps
        self.stepsPerGeneration = stepsPerGeneration
        self.activeTokensInGeneration = activeTokensInGeneration
        self.miniBatch = miniBatch
    }

    public static func == (a: LossNormalization, b: LossNormalization) -> Bool {
        a.accumulationSteps == b.accumulationSteps && a.stepsPerGeneration == b.stepsPerGeneration
            && a.activeTokensInGeneration == b.activeTokensInGeneration
            && a.miniBatch?.completions == b.miniBatch?.completions && a.miniBatch?.tokens == b.miniBatch?.tokens
    }
}

/// One mini-batch: B completions padded to T tokens (row-major B x T).
public struct PolicyLossInput: Sendable {
    public var logps: [Double]
    public var oldLogps: [Double]
    /// Reference-model logprobs; needed when beta != 0.
    public var refLogps: [Double]?
    /// Per token (process supervision) or broadcast from one advantage per completion.
    public var advantages: [Double]
    public var mask: [Double]
    public var completions: Int
    public var time: Int

    public init(logps: [Double], oldLogps: [Double], refLogps: [Double]?, advantages: [Double], mask: [Double],
                completions: Int, time: Int) {
        precondition(logps.count == completions * time && oldLogps.count == logps.count && mask.count == logps.count
                     && advantages.count == logps.count && (refLogps?.count ?? logps.count) == logps.count,
                     "PolicyLossInput: every array must hold completions x time = \(completions * time) values")
        self.logps = logps
        self.oldLogps = oldLogps
        self.refLogps = refLogps
        self.advantages = advantages
        self.mask = mask
        self.completions = completions
        self.time = time
    }

    /// Broadcasts one advantage per completion to its tokens.
    public static func perToken(_ advantages: [Double], time: Int) -> [Double] {
        advantages.flatMap { [Double](repeating: $0, count: time) }
    }
}

public struct PolicyLossResult: Sendable {
    public var loss: Double
    /// d loss / d logps (B x T).
    public var gradient: [Double]
    /// TRL's metrics: masked means over tokens (completions at sequence level).
    public var clipLow: Double
    public var clipHigh: Double
    public var clipRegion: Double
    /// Masked token mean of the KL estimate (nil when beta == 0).
    public var kl: Double?
}

public enum PolicyLoss {
    public static func compute(_ x: PolicyLossInput, config c: PolicyLossConfig, normalization: LossNormalization)
        -> PolicyLossResult {
        precondition(c.beta == 0 || x.refLogps != nil, "PolicyLoss: beta \(c.beta) needs reference logprobs")
        let (b, t) = (x.completions, x.time)
        let weights = aggregationWeights(x, config: c, normalization: normalization)  // d loss / d (m L), B x T
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: b * t)
        var clipped = (low: 0.0, high: 0.0, region: 0.0, count: 0.0)
        var klTotal = 0.0, klCount = 0.0
        for i in 0..<b {
            let row = (i * t)..<((i + 1) * t)
            let tokens = x.mask[row].reduce(0, +)
            let sequenceLogW = row.reduce(0.0) { $0 + (x.logps[$1] - x.oldLogps[$1]) * x.mask[$1] } / max(tokens, 1)
            // d(sequence log w)/d logp_t = m_t / max(sum m, 1); accumulated into the whole row below.
            var rowRatioGradient = 0.0  // sum over tokens of d loss / d r (sequence level)
            for j in row {
                let logW = c.importanceSampling == .token ? x.logps[j] - x.oldLogps[j] : sequenceLogW
                let r = exp(logW)
                let a = x.advantages[j]
                let rClip = min(max(r, 1 - c.epsilon), 1 + c.epsilonHigh)
                let rDelta = c.delta.map { min(r, $0) } ?? r
                let dRDelta: Double = c.delta.map { r <= $0 ? 1 : 0 } ?? 1  // d r' / d r
                let dRClip: Double = (r >= 1 - c.epsilon && r <= 1 + c.epsilonHigh) ? 1 : 0
                let (u, v) = (rDelta * a, rClip * a)
                // -min(u, v); ties split the gradient evenly, as torch.minimum does.
                var policy = -min(u, v)
                var dPolicyDr = u < v ? -a * dRDelta : (u > v ? -a * dRClip : -0.5 * a * (dRDelta + dRClip))
                var dDirect = 0.0  // d L / d logp_j through logp_j itself (not through r)
                if c.beta != 0, let ref = x.refLogps {
                    let (kl, dKL) = c.klEstimator.value(ref: ref[j], logp: x.logps[j])
                    let scale = c.klBiasCorrection ? r : 1
                    policy += c.beta * kl * scale
                    dDirect += c.beta * dKL * scale
                    if c.klBiasCorrection { dPolicyDr += c.beta * kl }
                    if x.mask[j] != 0 { klTotal += kl * scale; klCount += 1 }
                }
                let w = weights[j] * x.mask[j]
                loss += w * policy
                gradient[j] += w * dDirect
                if c.importanceSampling == .token {
                    gradient[j] += w * dPolicyDr * r  // d r / d logp = r
                } else {
                    rowRatioGradient += w * dPolicyDr * r
                }
                if x.mask[j] != 0 && c.importanceSampling == .token {
                    let low = r < 1 - c.epsilon && a < 0, high = r > 1 + c.epsilonHigh && a > 0
                    clipped.low += low ? 1 : 0
                    clipped.high += high ? 1 : 0
                    clipped.region += low || high ? 1 : 0
                    clipped.count += 1
                }
            }
            if c.importanceSampling == .sequence {
                for j in row { gradient[j] += rowRatioGradient * x.mask[j] / max(tokens, 1) }
                let r = exp(sequenceLogW), a = x.advantages[i * t]
                let low = r < 1 - c.epsilon && a < 0, high = r > 1 + c.epsilonHigh && a > 0
                clipped.low += low ? 1 : 0
                clipped.high += high ? 1 : 0
                clipped.region += low || high ? 1 : 0
                clipped.count += 1
            }
        }
        let n = max(clipped.count, 1)
        return PolicyLossResult(loss: loss, gradient: gradient, clipLow: clipped.low / n, clipHigh: clipped.high / n,
                                clipRegion: clipped.region / n, kl: c.beta != 0 ? klTotal / max(klCount, 1) : nil)
    }

    /// The factor each masked token's loss enters the total with, per `loss_type`.
    static func aggregationWeights(_ x: PolicyLossInput, config c: PolicyLossConfig, normalization s: LossNormalization) -> [Double] {
        let (b, t) = (x.completions, x.time)
        let steps = Double(s.accumulationSteps)
        let completions = Double(s.miniBatch?.completions ?? b)
        switch c.lossType {
        case .grpo:
            return (0..<b).flatMap { i -> [Double] in
                let tokens = x.mask[(i * t)..<((i + 1) * t)].reduce(0, +)
                return [Double](repeating: 1 / (max(tokens, 1) * completions * steps), count: t)
            }
        case .bnpo:
            let tokens = s.miniBatch?.tokens ?? x.mask.reduce(0, +)
            return [Double](repeating: 1 / (max(tokens, 1) * steps), count: b * t)
        case .drGRPO:
            return [Double](repeating: 1 / (completions * Double(c.maxCompletionLength) * steps), count: b * t)
        case .dapo:
            let normalizer = max(s.activeTokensInGeneration, 1) * steps / Double(s.stepsPerGeneration)
            return [Double](repeating: 1 / normalizer, count: b * t)
        }
    }
}
