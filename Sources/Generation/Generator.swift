import TensorCore
import Transformer

/// Why a completion ended.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-sequence token or a stop string.
    case stop
    /// max_new_tokens was reached.
    case length
}

/// One generated continuation.
public struct Completion: Sendable, Equatable {
    /// The new token ids (an end-of-sequence token that stopped the row is included).
    public var ids: [Int32]
    /// The decoded text of the new tokens (without the end-of-sequence token).
    public var text: String
    public var finishReason: FinishReason
    /// log softmax(logits / temperature) of each sampled token, over the whole vocabulary.
    public var logprobs: [Float]
    /// The entropy of softmax(logits / temperature) over the whole vocabulary at each new token.
    public var entropies: [Float] = []

    public init(ids: [Int32], text: String, finishReason: FinishReason, logprobs: [Float], entropies: [Float] = []) {
        self.ids = ids
        self.text = text
        self.finishReason = finishReason
        self.logprobs = logprobs
        self.entropies = entropies
    }
}

/// What to generate and when to stop.
public struct GenerationConfig: Sendable, Equatable {
    public var maxNewTokens: Int
    public var sampling: SamplingConfig
    public var eosTokenIDs: Set<Int32>
    public var stopStrings: [String]
    /// Token id written into padding slots (never attended to).
    public var padTokenID: Int32

    public init(maxNewTokens: Int, sampling: SamplingConfig = .init(), eosTokenIDs: Set<Int32> = [],
                stopStrings: [String] = [], padTokenID: Int32 = 0) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.eosTokenIDs = eosTokenIDs
        self.stopStrings = stopStrings
        self.padTokenID = padTokenID
    }
}

/// Batched generation with a KV cache: prompts of different lengths are left-padded and prefilled
/// together, then every running row decodes one token per step; finished rows drop out.
public struct Generator {
    public let model: DecoderModel
    /// Token ids to text (for completion text and stop strings).
    public let detokenize: ([Int32]) -> String

    public init(model: DecoderModel, detokenize: @escaping ([Int32]) -> String) {
        self.model = model
        self.detokenize = detokenize
    }

    /// Generates one completion per prompt. The sampling generator advances row by row each step,
    /// so the same seed and prompts give the same completions.
    public func generate(prompts: [[Int32]], config: GenerationConfig, rng: inout SeededGenerator) -> [Completion] {
        var streams = [rng]
        defer { rng = streams[0] }
        return generate(prompts: prompts, config: config, streams: &streams) { _ in 0 }
    }

    /// Generates one completion per prompt, row i drawing from its own `rowStreams[i]`: a row's
    /// completion does not depend on which other rows share the batch (data-parallel ranks
    /// sample their share of a batch as one process would sample the whole).
    public func generate(prompts: [[Int32]], config: GenerationConfig, rowStreams: inout [SeededGenerator]) -> [Completion] {
        precondition(rowStreams.count == prompts.count, "Generator: \(rowStreams.count) streams for \(prompts.count) rows")
        return generate(prompts: prompts, config: config, streams: &rowStreams) { $0 }
    }

    /// The sampling loop; row r draws from `streams[stream(r)]`.
    private func generate(prompts: [[Int32]], config: GenerationConfig, streams: inout [SeededGenerator],
                          stream: (Int) -> Int) -> [Completion] {
        let b = prompts.count
        guard b > 0, config.maxNewTokens > 0 else {
            return prompts.map { _ in Completion(ids: [], text: "", finishReason: .length, logprobs: []) }
        }
        // Identical prompts (a GRPO group, pass@k samples) are prefilled once and their cache rows copied.
        var firstRow: [[Int32]: Int] = [:], unique: [[Int32]] = [], source: [Int] = []
        for prompt in prompts {
            if let u = firstRow[prompt] { source.append(u); continue }
            firstRow[prompt] = unique.count
            source.append(unique.count)
            unique.append(prompt)
        }
        let time = prompts.map(\.count).max() ?? 0
        var ids = [Int32](repeating: config.padTokenID, count: unique.count * time), mask = [Int32](repeating: 0, count: unique.count * time)
        for (row, prompt) in unique.enumerated() {
            for (t, id) in prompt.enumerated() {
                ids[row * time + time - prompt.count + t] = id
                mask[row * time + time - prompt.count + t] = 1
            }
        }
        let vocab = model.config.vocabSize
        let shared = unique.count < b
        var cache = KVCache(config: model.config, rows: unique.count, capacity: shared ? time : time + config.maxNewTokens)
        let prefilled = model.prefill(.init(ids: ids, attentionMask: mask, batch: unique.count, time: time), cache: cache)  // (U, V)
        var logits = prefilled  // (B, V)
        if shared {
            cache = cache.replicatingRows(source, capacity: time + config.maxNewTokens)
            logits = Tape(recording: false).gatherRows(prefilled, rows: source)
        }
        var completions = prompts.map { _ in Completion(ids: [], text: "", finishReason: .length, logprobs: []) }
        var running = Array(0..<b)
        var positions = prompts.map { Int32($0.count) }
        for step in 0..<config.maxNewTokens {
            var next: [Int32] = [], stillRunning: [Int] = []
            // Each row's uniform number in row order from its stream, then the rows' draws (an exp
            // pass over the vocabulary each) across the pool: the same tokens on any thread count.
            let uniforms = running.map { TokenSampler.uniform(config.sampling, &streams[stream($0)]) }
            var picks = [(token: Int32, logprob: Float, entropy: Float)](repeating: (0, 0, 0), count: running.count)
            picks.withUnsafeMutableBufferPointer { out in
                let logitsData = logits.data
                DecodeKernels.parallelRows(running.count, macsPerRow: 4 * vocab) { rows in
                    for r in rows {
                        out[r] = TokenSampler.sample(logits: logitsData + r * vocab, vocab: vocab, config: config.sampling,
                                                     uniform: uniforms[r])
                    }
                }
            }
            for (r, row) in running.enumerated() {
                let (token, logprob, entropy) = picks[r]
                completions[row].ids.append(token)
                completions[row].logprobs.append(logprob)
                completions[row].entropies.append(entropy)
                if config.eosTokenIDs.contains(token) || hitsStopString(completions[row].ids, config) {
                    completions[row].finishReason = .stop
                } else if step + 1 < config.maxNewTokens {
                    stillRunning.append(row)
                    next.append(token)
                }
            }
            running = stillRunning
            if running.isEmpty { break }
            logits = model.decodeStep(cache: cache, rows: running, tokens: next, positions: running.map { positions[$0] })
            for row in running { positions[row] += 1 }
        }
        for row in 0..<b {
            let body = completions[row].ids.filter { !config.eosTokenIDs.contains($0) }
            completions[row].text = detokenize(body)
        }
        return completions
    }

    private func hitsStopString(_ ids: [Int32], _ config: GenerationConfig) -> Bool {
        guard !config.stopStrings.isEmpty else { return false }
        // Only the tail can complete a stop string; decode a window long enough for the longest.
        let window = Array(ids.suffix(config.stopStrings.map(\.utf8.count).max()! + 4))
        let text = detokenize(window)
        return config.stopStrings.contains { text.contains($0) }
    }
}
