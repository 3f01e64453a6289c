import Foundation

/// PPO's loss on one micro-batch, with TRL's PPOTrainer semantics (ppo_trainer.py 821-868) and its
/// exact gradient with respect to the new logprobs and the new values (seeded into the policy's and
/// the value model's tapes):
///
///     logp'   = new logprob where valid, else INVALID_LOGPROB (no gradient there)
///     r       = exp(logp' - logp_old)
///     pg      = masked_mean(max(-A r, -A clamp(r, 1 - cliprange, 1 + cliprange)), valid)
///     v'      = new value where validP1, else 0 (no gradient there)
///     vclip   = clamp(v', V_old - cliprange_value, V_old + cliprange_value)
///     vf      = 0.5 * masked_mean(max((v' - R)^2, (vclip - R)^2), validP1)
///     loss    = pg + vf_coef * vf
///
/// Ties in max() split the gradient evenly, as torch.max does. Statistics as TRL logs them:
/// pg_clipfrac (the clipped branch strictly larger, over valid tokens), vf_clipfrac (over validP1),
/// approxkl = 0.5 * mean((logp' - logp_old)^2) and the ratio mean over all B x T positions.
///
/// Split over ranks, an input is one rank's rows of a micro-batch and `wholeBatch` holds the whole
/// micro-batch's counts (valid tokens, validP1 positions, B x T cells): every mean divides by them,
/// so each rank's loss, gradient and statistics are its part of a sum over ranks.
public enum PPOLoss {
    public struct Settings: Sendable, Equatable {
        public var cliprange = 0.2
        public var cliprangeValue = 0.2
        public var vfCoef = 0.1

        public init() {}
    }

    /// One micro-batch of B rows x T positions (row-major); the rollout's arrays are already masked.
    public struct Input: Sendable {
        public var rows: Int, time: Int
        public var valid: [Double], validP1: [Double]
        public var newLogprobs: [Double], oldLogprobs: [Double], advantages: [Double]
        public var newValues: [Double], oldValues: [Double], returns: [Double]
        /// The denominators of the means when they are not this input's own counts.
        public var wholeBatch: Counts?

        public init(rows: Int, time: Int, valid: [Double], validP1: [Double], newLogprobs: [Double], oldLogprobs: [Double],
                    advantages: [Double], newValues: [Double], oldValues: [Double], returns: [Double], wholeBatch: Counts? = nil) {
            self.rows = rows
            self.time = time
            self.valid = valid
            self.validP1 = validP1
            self.newLogprobs = newLogprobs
            self.oldLogprobs = oldLogprobs
            self.advantages = advantages
            self.newValues = newValues
            self.oldValues = oldValues
            self.returns = returns
            self.wholeBatch = wholeBatch
        }

        /// This input's own counts.
        public var counts: Counts { Counts(tokens: valid.reduce(0, +), positions: validP1.reduce(0, +), cells: Double(rows * time)) }
    }

    /// What the means of a micro-batch divide by: its valid tokens, its validP1 positions and its B x T cells.
    public struct Counts: Sendable, Equatable {
        public var tokens: Double, positions: Double, cells: Double

        public init(tokens: Double, positions: Double, cells: Double) {
            self.tokens = tokens
            self.positions = positions
            self.cells = cells
        }
    }

    public struct Result: Sendable {
        public var pgLoss: Double, vfLoss: Double, loss: Double
        /// d loss / d new logprob and d loss / d new value (B x T).
        public var logprobGradient: [Double], valueGradient: [Double]
        public var pgClipfrac: Double, vfClipfrac: Double, approxKL: Double, ratioMean: Double
    }

    public static func compute(_ x: Input, _ s: Settings) -> Result {
        let n = x.rows * x.time, whole = x.wholeBatch ?? x.counts
        let tokens = max(whole.tokens, 1e-300), positions = max(whole.positions, 1e-300), cells = max(whole.cells, 1)
        var pg = 0.0, vf = 0.0, pgClipped = 0.0, vfClipped = 0.0, approx = 0.0, ratioSum = 0.0
        var dLogp = [Double](repeating: 0, count: n), dValue = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let logp = x.valid[k] != 0 ? x.newLogprobs[k] : PPOMath.invalidLogprob
            let diff = logp - x.oldLogprobs[k]
            let r = exp(diff), a = x.advantages[k]
            approx += 0.5 * diff * diff
            ratioSum += r
            if x.valid[k] != 0 {
                let inRange = r >= 1 - s.cliprange && r <= 1 + s.cliprange
                let u = -a * r, w = -a * min(max(r, 1 - s.cliprange), 1 + s.cliprange)
                pg += max(u, w)
                pgClipped += w > u ? 1 : 0
                let du = -a * r, dw = inRange ? -a * r : 0  // d/dlogp of each branch (dr/dlogp = r)
                dLogp[k] = (u > w ? du : (w > u ? dw : 0.5 * (du + dw))) / tokens
            }
            if x.validP1[k] != 0 {
                let v = x.newValues[k], low = x.oldValues[k] - s.cliprangeValue, high = x.oldValues[k] + s.cliprangeValue
                let clipped = min(max(v, low), high)
                let l1 = (v - x.returns[k]) * (v - x.returns[k]), l2 = (clipped - x.returns[k]) * (clipped - x.returns[k])
                vf += max(l1, l2)
                vfClipped += l2 > l1 ? 1 : 0
                let d1 = 2 * (v - x.returns[k]), d2 = v >= low && v <= high ? 2 * (clipped - x.returns[k]) : 0
                dValue[k] = s.vfCoef * 0.5 * (l1 > l2 ? d1 : (l2 > l1 ? d2 : 0.5 * (d1 + d2))) / positions
            }
        }
        let pgLoss = pg / tokens, vfLoss = 0.5 * vf / positions
        return Result(pgLoss: pgLoss, vfLoss: vfLoss, loss: pgLoss + s.vfCoef * vfLoss, logprobGradient: dLogp, valueGradient: dValue,
                      pgClipfrac: pgClipped / tokens, vfClipfrac: vfClipped / positions, approxKL: approx / cells,
                      ratioMean: ratioSum / cells)
    }
}
