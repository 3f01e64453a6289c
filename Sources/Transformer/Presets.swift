/// Model sizes for experiments on this machine (Qwen2 family, tied embeddings).
public enum ModelPreset: String, CaseIterable, Sendable {
    /// hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 768 (about 3.3M parameters at vocab 512).
    case tiny
    /// hidden 512, 8 layers, 8 heads, 4 KV heads, intermediate 1536.
    case small

    public func config(vocabSize: Int, bosTokenID: Int? = nil, eosTokenIDs: [Int] = []) -> DecoderConfig {
        switch self {
        case .tiny:
            return DecoderConfig(modelType: "qwen2", vocabSize: vocabSize, hiddenSize: 256, intermediateSize: 768,
                                 layerCount: 4, headCount: 4, kvHeadCount: 2, rmsNormEps: 1e-6, ropeTheta: 10_000,
                                 tieWordEmbeddings: true, qkvBias: true, maxPositionEmbeddings: 1024,
                                 bosTokenID: bosTokenID, eosTokenIDs: eosTokenIDs)
        case .small:
            return DecoderConfig(modelType: "qwen2", vocabSize: vocabSize, hiddenSize: 512, intermediateSize: 1536,
                                 layerCount: 8, headCount: 8, kvHeadCount: 4, rmsNormEps: 1e-6, ropeTheta: 10_000,
                                 tieWordEmbeddings: true, qkvBias: true, maxPositionEmbeddings: 2048,
                                 bosTokenID: bosTokenID, eosTokenIDs: eosTokenIDs)
        }
    }
}

extension DecoderConfig {
    /// Multiply-adds per token of the forward pass's matrix products (projections, MLP, LM head),
    /// and of attention at sequence length `time` (scores and weighted values over all T keys, as
    /// the kernel computes them).
    public func forwardMACsPerToken(time: Int) -> (matmul: Int, attention: Int) {
        let q = headCount * headDim, kv = kvHeadCount * headDim
        let perLayer = hiddenSize * (q + 2 * kv) + q * hiddenSize + 3 * hiddenSize * intermediateSize
        return (layerCount * perLayer + vocabSize * hiddenSize, layerCount * 2 * headCount * headDim * time)
    }

    /// Multiply-adds of sampling `newTokens` tokens for each of `rows` distinct prompts of
    /// `promptTokens` tokens, no row stopping early, as `Generator` computes them: the prefill runs
    /// every prompt token through the layers (attention over all T prompt keys, as its kernel does)
    /// but the LM head only at the last; then newTokens - 1 decode steps (the last token is
    /// sampled, not fed back), step s attending over its T + s + 1 cached keys.
    public func generationMACs(rows: Int, promptTokens t: Int, newTokens: Int) -> Int {
        guard rows > 0, t > 0, newTokens > 0 else { return 0 }
        let head = vocabSize * hiddenSize, perToken = forwardMACsPerToken(time: 0).matmul
        let attentionPerKey = layerCount * 2 * headCount * headDim
        var macs = t * (perToken - head) + head + t * t * attentionPerKey
        for s in 0..<(newTokens - 1) { macs += perToken + (t + s + 1) * attentionPerKey }
        return rows * macs
    }
}
