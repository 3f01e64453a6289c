#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorCore

/// The candidates of one sampling decision: token ids with their (processed) logits.
/// Stages narrow or reshape them; the final draw picks one.
public struct Candidates: Equatable {
    public var ids: [Int32]
    public var logits: [Float]
    /// Whether `ids` are ordered by descending logit.
    public var sorted = false

    public init(logits: [Float]) {
        ids = (0..<logits.count).map { Int32($0) }
        self.logits = logits
    }

    public init(ids: [Int32], logits: [Float], sorted: Bool) {
        self.ids = ids
        self.logits = logits
        self.sorted = sorted
    }

    mutating func sortDescending() {
        if sorted { return }
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && ids[$0] < ids[$1]) }
        ids = order.map { ids[$0] }
        logits = order.map { logits[$0] }
        sorted = true
    }

    mutating func keepFirst(_ n: Int) {
        ids.removeSubrange(n...)
        logits.removeSubrange(n...)
    }

    /// softmax of the current logits (Double).
    func probabilities() -> [Double] {
        let m = Double(logits.max() ?? 0)
        let e = logits.map { Foundation_exp(Double($0) - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }
}

@inline(__always) func Foundation_exp(_ x: Double) -> Double { exp(x) }

/// One stage of the sampler chain, in the llama.cpp style (small, composable, table-tested).
public protocol SamplerStage {
    func apply(_ candidates: inout Candidates)
}

/// Divides logits by the temperature (> 0).
public struct Temperature: SamplerStage {
    public let value: Float
    public init(_ value: Float) { self.value = value }
    public func apply(_ c: inout Candidates) {
        for i in c.logits.indices { c.logits[i] /= value }
    }
}

/// Keeps the k most likely tokens (k <= 0 keeps all).
public struct TopK: SamplerStage {
    public let k: Int
    public init(_ k: Int) { self.k = k }
    public func apply(_ c: inout Candidates) {
        guard k > 0, k < c.ids.count else { return }
        c.sortDescending()
        c.keepFirst(k)
    }
}

/// Keeps the smallest set of most likely tokens whose probability reaches p (always at least one).
public struct TopP: SamplerStage {
    public let p: Double
    public init(_ p: Double) { self.p = p }
    public func apply(_ c: inout Candidates) {
        guard p < 1 else { return }
        c.sortDescending()
        let probs = c.probabilities()
        var total = 0.0, keep = c.ids.count
        for (i, q) in probs.enumerated() {
            total += q
            if total >= p { keep = i + 1; break }
        }
        c.keepFirst(keep)
    }
}

/// Keeps tokens whose probability is at least minP times the most likely one's.
public struct MinP: SamplerStage {
    public let minP: Double
    public init(_ minP: Double) { self.minP = minP }
    public func apply(_ c: inout Candidates) {
        guard minP > 0 else { return }
        c.sortDescending()
        let probs = c.probabilities()
        let threshold = minP * (probs.first ?? 0)
        let keep = max(1, probs.prefix { $0 >= threshold }.count)
        c.keepFirst(keep)
    }
}

/// Sampling settings, named as in transformers' GenerationConfig.
public struct SamplingConfig: Sendable, Equatable {
    /// 0 means greedy.
    public var temperature: Float = 1
    public var topK: Int = 0
    public var topP: Double = 1
    public var minP: Double = 0

    public init(temperature: Float = 1, topK: Int = 0, topP: Double = 1, minP: Double = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
    }

    public var isGreedy: Bool { temperature <= 0 }

    /// Whether the chain is the temperature alone (no top-k, top-p or min-p): a draw from the
    /// whole vocabulary, which needs no candidate list.
    public var isTemperatureOnly: Bool { !isGreedy && topK <= 0 && topP >= 1 && minP <= 0 }

    /// The chain in transformers' order: temperature, top-k, top-p, min-p.
    public var stages: [any SamplerStage] {
        var stages: [any SamplerStage] = [Temperature(temperature)]
        if topK > 0 { stages.append(TopK(topK)) }
        if topP < 1 { stages.append(TopP(topP)) }
        if minP > 0 { stages.append(MinP(minP)) }
        return stages
    }
}

/// Picks the next token of one row, its log-probability and the entropy of softmax(logits /
/// temperature) over the whole vocabulary (what TRL recomputes for the loss and logs as `entropy`;
/// greedy uses temperature 1). Both figures come from one exp pass over the vocabulary, which for a
/// draw at temperature alone is also the draw's.
public enum TokenSampler {
    public static func sample(logits row: UnsafePointer<Float>, vocab: Int, config: SamplingConfig,
                              rng: inout SeededGenerator) -> (token: Int32, logprob: Float, entropy: Float) {
        sample(logits: row, vocab: vocab, config: config, uniform: uniform(config, &rng))
    }

    /// The one uniform number a sampling decision takes from its stream (none when greedy): drawn
    /// first, in row order, the rows' decisions can then run on any thread.
    public static func uniform(_ config: SamplingConfig, _ rng: inout SeededGenerator) -> Double {
        config.isGreedy ? 0 : rng.nextUniform()
    }

    /// `sample(logits:vocab:config:rng:)` with its uniform number `u` drawn already.
    public static func sample(logits row: UnsafePointer<Float>, vocab: Int, config: SamplingConfig,
                              uniform u: Double) -> (token: Int32, logprob: Float, entropy: Float) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: vocab) { buffer in
            let weights = buffer.baseAddress!
            let temperature = config.isGreedy ? 1 : config.temperature
            let (total, weighted, m) = exponentials(row: row, vocab: vocab, temperature: temperature, into: weights)
            let token: Int32
            if config.isTemperatureOnly {
                token = drawFromWeights(weights, vocab: vocab, total: total, uniform: u)
            } else if config.isGreedy {
                var best = 0
                for j in 1..<vocab where row[j] > row[best] { best = j }
                token = Int32(best)
            } else {
                var c = Candidates(logits: Array(UnsafeBufferPointer(start: row, count: vocab)))
                for stage in config.stages { stage.apply(&c) }
                token = draw(c, uniform: u)
            }
            return (token, logprob(token, row: row, temperature: temperature, shift: m, total: total),
                    entropy(total: total, weighted: weighted))
        }
    }

    /// w_j = exp(row_j / T - m) with m = max(row) / T; returns sum w (fp64), sum w_j (row_j / T - m)
    /// and m. weights: (V).
    static func exponentials(row: UnsafePointer<Float>, vocab: Int, temperature: Float,
                             into w: UnsafeMutablePointer<Float>) -> (total: Double, weighted: Double, shift: Float) {
        let inv = 1 / temperature
        let m = inv * FastMath.max(row, count: vocab)
        let (total, weighted) = FastMath.expSumWeighted(w, row, scale: inv, shift: m, count: vocab)
        return (total, weighted, m)
    }

    /// An inverse-CDF draw from unnormalised weights: the first j whose running sum of w exceeds
    /// u * sum w, so a draw at temperature alone needs no candidate list.
    static func drawFromWeights(_ w: UnsafeMutablePointer<Float>, vocab: Int, total: Double, uniform u: Double) -> Int32 {
        let target = u * total
        var running = 0.0, token = -1
        for j in 0..<vocab where w[j] > 0 {
            token = j  // the last possible token, should rounding leave target past the running sum
            running += Double(w[j])
            if target < running { break }
        }
        return Int32(max(token, 0))  // only NaN logits leave no positive weight
    }

    /// log softmax(row / T)[token] = row_token / T - (m + log sum w).
    @inline(__always)
    static func logprob(_ token: Int32, row: UnsafePointer<Float>, temperature: Float, shift m: Float, total: Double) -> Float {
        (1 / temperature) * row[Int(token)] - (m + Float(log(total)))
    }

    /// H = -sum p log p = log sum w - sum w_j (row_j / T - m) / sum w.
    @inline(__always)
    static func entropy(total: Double, weighted: Double) -> Float {
        Float(log(total) - weighted / total)
    }

    /// Draws from the softmax of the candidates' logits with one uniform number.
    public static func draw(_ c: Candidates, _ rng: inout SeededGenerator) -> Int32 {
        draw(c, uniform: rng.nextUniform())
    }

    /// `draw(_:_:)` with its uniform number `u` drawn already.
    public static func draw(_ c: Candidates, uniform u: Double) -> Int32 {
        let probs = c.probabilities()
        var total = 0.0
        for (i, q) in probs.enumerated() {
            total += q
            if u < total { return c.ids[i] }
        }
        return c.ids[probs.count - 1]
    }

    /// log softmax(row / temperature)[token], in fp32 as the fused training op computes it.
    public static func logprob(of token: Int32, row: UnsafePointer<Float>, vocab: Int, temperature: Float) -> Float {
        let scratch = Storage(count: vocab)
        let (total, _, m) = exponentials(row: row, vocab: vocab, temperature: temperature, into: scratch.pointer)
        return logprob(token, row: row, temperature: temperature, shift: m, total: total)
    }
}
