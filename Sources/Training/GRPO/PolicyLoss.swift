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
/// TRL 1.16's other per-token terms (sg = stop gradient; r the token or sequence ratio):
///     cispo   L = -sg(min(r, epsilon_high)) A logp           (epsilon_high an absolute cap; MiniMax-M1)
///     sapo    L = -(4 / tau) sigmoid(tau (r - 1)) A           (tau = sapo_temperature_pos if A > 0, else _neg)
///     luspo   the clipped term above                         (GSPO's, summed per completion)
///     vespo   L = -sg(phi_i) A logp,  phi_i = exp(lambda + k log w_i - lambda w_i),
///             log w_i = clamp(sum_t m clamp(logp - logp_old, -20, 20), log 1e-8, 20),
///             (k, lambda) = vespo_k_pos, vespo_lambda_pos if A >= 0, else the _neg pair
///
/// Aggregation (`loss_type`), with S = gradient-accumulation steps:
///     grpo, sapo   mean over completions of sum_t m L / max(sum_t m, 1), / S
///     bnpo         sum m L / max(sum m, 1), / S
///     dr_grpo      sum m L / (completions x max_completion_length), / S
///     dapo, cispo, vespo
///                  sum m L / (active tokens of the whole generation batch x S / steps_per_generation)
///     luspo        sum m L / (completions x S)                (a sum over each completion's tokens)
public enum PolicyLossType: String, Sendable, Codable, CaseIterable {
    case grpo, bnpo, drGRPO = "dr_grpo", dapo, cispo, sapo, luspo, vespo

    /// Whether the term is PPO's clipped one (which the clip_ratio metrics describe).
    public var clips: Bool { ![.cispo, .sapo, .vespo].contains(self) }
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
    /// sapo's gate temperatures for positive and other advantages.
    public var sapoTemperaturePos = 1.0, sapoTemperatureNeg = 1.05
    /// vespo's (k, lambda) for non-negative and negative advantages.
    public var vespoKPos = 2.0, vespoLambdaPos = 3.0, vespoKNeg = 3.0, vespoLambdaNeg = 2.0

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
    /// The loss type's own figures: cispo_clip_ratio (cispo), vespo/phi_seq_mean (vespo).
    public var extra: [String: Double] = [:]
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
        var klTotal = 0.0, klCount = 0.0, cispoCapped = 0.0, phiTotal = 0.0
        for i in 0..<b {
            let row = (i * t)..<((i + 1) * t)
            let tokens = x.mask[row].reduce(0, +)
            let sequenceLogW = row.reduce(0.0) { $0 + (x.logps[$1] - x.oldLogps[$1]) * x.mask[$1] } / max(tokens, 1)
            // d(sequence log w)/d logp_t = m_t / max(sum m, 1); accumulated into the whole row below.
            var rowRatioGradient = 0.0  // sum over tokens of d loss / d r (sequence level)
            let phi = c.lossType == .vespo ? vespoWeight(x, row: row, config: c) : 0
            if c.lossType == .vespo { phiTotal += phi }
            for j in row {
                let logW = c.importanceSampling == .token ? x.logps[j] - x.oldLogps[j] : sequenceLogW
                let r = exp(logW)
                let a = x.advantages[j]
                var (policy, dPolicyDr, dDirect) = term(r: r, a: a, logp: x.logps[j], phi: phi, config: c)
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
                    cispoCapped += c.lossType == .cispo && r > c.epsilonHigh && a > 0 ? 1 : 0
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
                cispoCapped += c.lossType == .cispo && r > c.epsilonHigh && a > 0 ? 1 : 0
                let low = r < 1 - c.epsilon && a < 0, high = r > 1 + c.epsilonHigh && a > 0
                clipped.low += low ? 1 : 0
                clipped.high += high ? 1 : 0
                clipped.region += low || high ? 1 : 0
                clipped.count += 1
            }
        }
        let n = max(clipped.count, 1)
        var extra: [String: Double] = [:]
        if c.lossType == .cispo { extra["cispo_clip_ratio"] = cispoCapped / n }
        if c.lossType == .vespo { extra["vespo/phi_seq_mean"] = phiTotal / Double(max(b, 1)) }
        return PolicyLossResult(loss: loss, gradient: gradient, clipLow: clipped.low / n, clipHigh: clipped.high / n,
                                clipRegion: clipped.region / n, kl: c.beta != 0 ? klTotal / max(klCount, 1) : nil, extra: extra)
    }

    /// One token's policy term at ratio r: its value, d/dr, and d/dlogp through logp itself (the
    /// detached-weight terms cispo and vespo are weighted log-likelihoods).
    static func term(r: Double, a: Double, logp: Double, phi: Double, config c: PolicyLossConfig)
        -> (value: Double, dRatio: Double, dDirect: Double) {
        switch c.lossType {
        case .cispo:
            let weight = min(r, c.epsilonHigh)
            return (-weight * a * logp, 0, -weight * a)
        case .sapo:
            let tau = a > 0 ? c.sapoTemperaturePos : c.sapoTemperatureNeg
            let sigma = 1 / (1 + exp(-tau * (r - 1)))
            return (-(4 / tau) * sigma * a, -4 * sigma * (1 - sigma) * a, 0)
        case .vespo:
            return (-phi * a * logp, 0, -phi * a)
        case .grpo, .bnpo, .drGRPO, .dapo, .luspo:
            let rClip = min(max(r, 1 - c.epsilon), 1 + c.epsilonHigh)
            let rDelta = c.delta.map { min(r, $0) } ?? r
            let dRDelta: Double = c.delta.map { r <= $0 ? 1 : 0 } ?? 1  // d r' / d r
            let dRClip: Double = (r >= 1 - c.epsilon && r <= 1 + c.epsilonHigh) ? 1 : 0
            let (u, v) = (rDelta * a, rClip * a)
            // -min(u, v); ties split the gradient evenly, as torch.minimum does.
            return (-min(u, v), u < v ? -a * dRDelta : (u > v ? -a * dRClip : -0.5 * a * (dRDelta + dRClip)), 0)
        }
    }

    /// vespo's detached sequence weight phi of one completion (a row of the B x T layout).
    static func vespoWeight(_ x: PolicyLossInput, row: Range<Int>, config c: PolicyLossConfig) -> Double {
        let sum = row.reduce(0.0) { $0 + min(max(x.logps[$1] - x.oldLogps[$1], -20), 20) * x.mask[$1] }
        let logW = min(max(sum, log(1e-8)), 20), w = exp(logW)
        let positive = x.advantages[row.lowerBound] >= 0
        let k = positive ? c.vespoKPos : c.vespoKNeg, lambda = max(positive ? c.vespoLambdaPos : c.vespoLambdaNeg, 1e-4)
        let phi = exp(lambda + k * logW - lambda * w)
        return phi.isFinite ? phi : 0
    }

    /// The factor each masked token's loss enters the total with, per `loss_type`.
    static func aggregationWeights(_ x: PolicyLossInput, config c: PolicyLossConfig, normalization s: LossNormalization) -> [Double] {
        let (b, t) = (x.completions, x.time)
        let steps = Double(s.accumulationSteps)
        let completions = Double(s.miniBatch?.completions ?? b)
        switch c.lossType {
        case .grpo, .sapo:
            return (0..<b).flatMap { i -> [Double] in
                let tokens = x.mask[(i * t)..<((i + 1) * t)].reduce(0, +)
                return [Double](repeating: 1 / (max(tokens, 1) * completions * steps), count: t)
            }
        case .bnpo:
            let tokens = s.miniBatch?.tokens ?? x.mask.reduce(0, +)
            return [Double](repeating: 1 / (max(tokens, 1) * steps), count: b * t)
        case .drGRPO:
            return [Double](repeating: 1 / (completions * Double(c.maxCompletionLength) * steps), count: b * t)
        case .luspo:
            return [Double](repeating: 1 / (completions * steps), count: b * t)
        case .dapo, .cispo, .vespo:
            let normalizer = max(s.activeTokensInGeneration, 1) * steps / Double(s.stepsPerGeneration)
            return [Double](repeating: 1 / normalizer, count: b * t)
        }
    }
}
