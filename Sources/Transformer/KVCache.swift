import TensorCore

/// Keys and values of every layer for a batch of rows, allocated once for the longest sequence.
/// Legend: B rows, Hkv kv heads, S capacity (prompt + new tokens), D head dim.
///
/// All rows share one length: a batch is prefilled together (left-padded), then each decode step
/// appends one position to the rows still running; `keyMask` marks padding and finished rows'
/// unused slots so no query attends to them.
public final class KVCache {
    public let rows: Int
    public let capacity: Int
    let kvHeads: Int
    let headDim: Int
    /// Per layer: keys and values, each (B, Hkv, S, D).
    let keys: [Storage]
    let values: [Storage]
    /// (B, S): 1 where a real token's key is stored.
    public private(set) var keyMask: [Int32]
    /// Positions filled so far (the same for every row).
    public private(set) var length = 0
    /// The decode step's buffers, made by the first step.
    var decodeWorkspace: DecodeWorkspace?

    public convenience init(config: DecoderConfig, rows: Int, capacity: Int) {
        self.init(kvHeads: config.kvHeadCount, headDim: config.headDim, layers: config.layerCount, rows: rows, capacity: capacity)
    }

    init(kvHeads: Int, headDim: Int, layers: Int, rows: Int, capacity: Int) {
        self.rows = rows
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headDim = headDim
        let size = rows * kvHeads * capacity * headDim
        keys = (0..<layers).map { _ in Storage(count: size) }
        values = (0..<layers).map { _ in Storage(count: size) }
        keyMask = [Int32](repeating: 0, count: rows * capacity)
    }

    /// The start of row `row`, kv head `h`, position `s` in a layer's keys or values.
    @inline(__always)
    func offset(row: Int, head: Int, position: Int) -> Int {
        ((row * kvHeads + head) * capacity + position) * headDim
    }

    /// Copies keys and values (B, T, Hkv, D) of a prefill into positions 0..<T of every row.
    func storePrefill(layer: Int, k: Tensor, v: Tensor, time: Int) {
        for b in 0..<rows {
            for t in 0..<time {
                for h in 0..<kvHeads {
                    let src = ((b * time + t) * kvHeads + h) * headDim, dst = offset(row: b, head: h, position: t)
                    (keys[layer].pointer + dst).update(from: k.data + src, count: headDim)
                    (values[layer].pointer + dst).update(from: v.data + src, count: headDim)
                }
            }
        }
    }

    /// A cache of `sources.count` rows whose row i is a copy of this cache's row sources[i] (keys,
    /// values and mask of every filled position), with room for `capacity` positions: prompts
    /// shared by several rows are prefilled once and copied.
    public func replicatingRows(_ sources: [Int], capacity newCapacity: Int) -> KVCache {
        precondition(newCapacity >= length && sources.allSatisfy { (0..<rows).contains($0) },
                     "replicatingRows: rows \(sources) of a \(rows)-row cache of length \(length), capacity \(newCapacity)")
        let copy = KVCache(kvHeads: kvHeads, headDim: headDim, layers: keys.count, rows: sources.count, capacity: newCapacity)
        for (row, source) in sources.enumerated() {
            for layer in 0..<keys.count {
                for h in 0..<kvHeads {
                    let src = offset(row: source, head: h, position: 0), dst = copy.offset(row: row, head: h, position: 0)
                    (copy.keys[layer].pointer + dst).update(from: keys[layer].pointer + src, count: length * headDim)
                    (copy.values[layer].pointer + dst).update(from: values[layer].pointer + src, count: length * headDim)
                }
            }
            for t in 0..<length { copy.keyMask[row * newCapacity + t] = keyMask[source * capacity + t] }
        }
        copy.length = length
        return copy
    }

    /// Copies one row's new keys and values (Hkv, D) to position `length`.
    func storeStep(layer: Int, row: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        for h in 0..<kvHeads {
            let dst = offset(row: row, head: h, position: length)
            (keys[layer].pointer + dst).update(from: k + h * headDim, count: headDim)
            (values[layer].pointer + dst).update(from: v + h * headDim, count: headDim)
        }
    }

    /// Marks a prefill of `time` positions done; `attentionMask` (B*T) says which were real tokens.
    func finishPrefill(time: Int, attentionMask: [Int32]?) {
        for b in 0..<rows {
            for t in 0..<time { keyMask[b * capacity + t] = attentionMask?[b * time + t] ?? 1 }
        }
        length = time
    }

    /// Marks one decode step done for the given rows.
    func finishStep(rows active: [Int]) {
        for row in active { keyMask[row * capacity + length] = 1 }
        length += 1
    }
}
