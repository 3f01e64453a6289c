import Foundation

/// The reward-model loss of TRL's RewardTrainer (Bradley-Terry), over B pairs with rewards
/// r_c (chosen) and r_r (rejected), optional margins m and center coefficient c:
///
///     loss = -mean_b logsigmoid(r_c - r_r - m)  +  c * mean_b (r_c + r_r)^2
///
/// and its gradient with respect to each reward:
///
///     d loss / d r_c =  (-sigmoid(-(r_c - r_r - m)) + 2c (r_c + r_r)) / B
///     d loss / d r_r =  ( sigmoid(-(r_c - r_r - m)) + 2c (r_c + r_r)) / B
///
/// Logged as TRL does: accuracy = mean(r_c > r_r), margin = mean(r_c - r_r) (without m), and the
/// min, mean and max of all 2B rewards.
public enum PairwiseLoss {
    public struct Result: Sendable {
        public var loss: Double
        public var dChosen: [Double]  // (B)
        public var dRejected: [Double]  // (B)
        public var metrics: [String: Double]
    }

    /// `margins`: one per pair, or nil; `centerCoefficient`: nil or 0 for none.
    public static func compute(chosen: [Double], rejected: [Double], margins: [Double]?, centerCoefficient: Double?) -> Result {
        let b = Double(chosen.count)
        let c = centerCoefficient ?? 0
        var loss = 0.0, dChosen: [Double] = [], dRejected: [Double] = []
        for i in chosen.indices {
            let z = chosen[i] - rejected[i] - (margins?[i] ?? 0)
            loss += softplus(-z) / b  // -logsigmoid(z)
            let pull = sigmoid(-z), center = 2 * c * (chosen[i] + rejected[i])
            dChosen.append((-pull + center) / b)
            dRejected.append((pull + center) / b)
        }
        if c != 0 { loss += c * zip(chosen, rejected).reduce(0) { $0 + ($1.0 + $1.1) * ($1.0 + $1.1) } / b }
        let all = chosen + rejected
        let metrics = [
            "accuracy": zip(chosen, rejected).reduce(0) { $0 + ($1.0 > $1.1 ? 1 : 0) } / b,
            "margin": zip(chosen, rejected).reduce(0) { $0 + $1.0 - $1.1 } / b,
            "min_reward": all.min() ?? .nan, "mean_reward": all.reduce(0, +) / Double(all.count), "max_reward": all.max() ?? .nan,
        ]
        return Result(loss: loss, dChosen: dChosen, dRejected: dRejected, metrics: metrics)
    }

    static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
}
