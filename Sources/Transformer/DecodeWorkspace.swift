import TensorCore

/// The buffers of `DecoderModel.decodeStep`, allocated once per cache for all of its rows, so a
/// step allocates and zero-fills nothing; and the rotary table of every position the cache holds,
/// so a step computes no cos/sin.
/// Legend: B rows, C hidden, H/Hkv heads, D head dim, I intermediate, V vocab.
final class DecodeWorkspace {
    let x: Storage  // (B, C) the residual stream
    let normed: Storage  // (B, C)
    let q: Storage  // (B, H*D)
    let k: Storage  // (B, Hkv*D)
    let v: Storage  // (B, Hkv*D)
    let attended: Storage  // (B, H*D)
    let gated: Storage  // (B, I) silu(gate) * up
    let logits: Storage  // (B, V)
    /// Positions 0..<P, P >= the cache's capacity; grown if a caller passes a larger position.
    private(set) var rotary: RotaryTable
    private let config: DecoderConfig

    init(config c: DecoderConfig, rows b: Int, capacity: Int) {
        config = c
        x = Storage(count: b * c.hiddenSize)
        normed = Storage(count: b * c.hiddenSize)
        q = Storage(count: b * c.headCount * c.headDim)
        k = Storage(count: b * c.kvHeadCount * c.headDim)
        v = Storage(count: b * c.kvHeadCount * c.headDim)
        attended = Storage(count: b * c.headCount * c.headDim)
        gated = Storage(count: b * c.intermediateSize)
        logits = Storage(count: b * c.vocabSize)
        rotary = Self.table(positions: capacity, c)
    }

    /// Makes the rotary table cover `position` (positions past the capacity only come from callers
    /// that drive `decodeStep` themselves).
    func cover(position: Int) {
        let count = rotary.positionCount
        if position >= count { rotary = Self.table(positions: max(position + 1, 2 * count), config) }
    }

    private static func table(positions: Int, _ c: DecoderConfig) -> RotaryTable {
        RotaryTable(positions: (0..<Int32(positions)).map { $0 }, headDim: c.headDim, theta: c.ropeTheta)
    }
}
