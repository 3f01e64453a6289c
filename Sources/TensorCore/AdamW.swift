/// AdamW with decoupled weight decay and bias correction, as torch.optim.AdamW computes it
/// (the for-loop implementation, fp32 state):
///
///     p *= 1 - lr * wd
///     m  = m + (1 - b1) (g - m)
///     v  = b2 v + (1 - b2) g^2
///     p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
///
/// Moments live in flat buffers parallel to the parameter set's values.
public final class AdamW {
    public struct Config: Sendable, Equatable {
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public var weightDecay: Double = 0
        public init(beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8, weightDecay: Double = 0) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
            self.weightDecay = weightDecay
        }
    }

    public let config: Config
    public let parameters: ParameterSet
    /// First and second moments, flat like `parameters.values`.
    public let m: Storage
    public let v: Storage
    /// Steps taken so far (t in the bias corrections).
    public private(set) var step = 0
    /// Per-tensor weight-decay switch (Hugging Face's Trainer does not decay biases and norms).
    private let decays: [Bool]

    /// - decay: which parameters get weight decay; all by default.
    public init(_ parameters: ParameterSet, config: Config, decay: (Tensor) -> Bool = { _ in true }) {
        self.parameters = parameters
        self.config = config
        m = Storage(count: parameters.count)
        v = Storage(count: parameters.count)
        decays = parameters.tensors.map(decay)
    }

    /// Restores the step count (the moments are restored by writing into `m` and `v`).
    public func restore(step: Int) { self.step = step }

    /// One update with learning rate `lr`, reading `parameters.grads`.
    public func update(lr: Double) {
        step += 1
        let c = config
        let decayFactor = Float(1 - lr * c.weightDecay)
        let bias1 = 1 - pow(c.beta1, Double(step)), bias2Sqrt = (1 - pow(c.beta2, Double(step))).squareRoot()
        let stepSize = Float(lr / bias1), b2Sqrt = Float(bias2Sqrt)
        let (b1, b2, eps) = (Float(1 - c.beta1), Float(c.beta2), Float(c.eps))
        let oneMinusB2 = Float(1 - c.beta2)
        let p = parameters.values.pointer, g = parameters.grads.pointer
        let mp = m.pointer, vp = v.pointer
        for (i, range) in parameters.ranges.enumerated() {
            let decay = decays[i] && c.weightDecay != 0
            for j in range {
                if decay { p[j] *= decayFactor }
                mp[j] += b1 * (g[j] - mp[j])
                vp[j] = vp[j] * b2 + oneMinusB2 * g[j] * g[j]
                let denom = vp[j].squareRoot() / b2Sqrt + eps
                p[j] -= stepSize * (mp[j] / denom)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
