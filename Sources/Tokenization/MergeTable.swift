/// The BPE merges as an open-addressing hash map from a pair of token ids to the merge's rank and
/// the merged token's id: ~4x faster than `Dictionary<UInt64, UInt64>` (no SipHash), which matters
/// because every word the cache misses does a few lookups per byte.
struct MergeTable: Sendable {
    /// A merge found in the table.
    struct Merge {
        var rank: UInt32
        var id: Int32
    }

    private struct Slot {
        var key: UInt64  // left << 32 | right; `empty` if unused
        var rank: UInt32
        var id: Int32
    }

    private static let empty = UInt64.max
    private var slots: [Slot]
    private let shift: UInt64

    /// An empty table with room for `count` merges at a load factor of at most one half.
    init(capacity count: Int) {
        var bits: UInt64 = 4
        while 1 << bits < 2 * count { bits += 1 }
        slots = [Slot](repeating: Slot(key: Self.empty, rank: 0, id: 0), count: 1 << bits)
        shift = 64 - bits
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Fibonacci hashing: the top bits of the key times 2^64 / golden ratio.
    @inline(__always)
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Sets the merge of (left, right); a later merge of the same pair replaces an earlier one.
    mutating func insert(_ left: Int32, _ right: Int32, rank: UInt32, id: Int32) {
        let key = Self.key(left, right)
        let mask = slots.count - 1
        var index = home(key)
        while slots[index].key != Self.empty && slots[index].key != key { index = (index + 1) & mask }
        slots[index] = Slot(key: key, rank: rank, id: id)
    }

    /// The merge of (left, right), if any.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let key = Self.key(left, right)
        let mask = slots.count - 1
        var index = home(key)
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[index]
                if slot.key == key { return Merge(rank: slot.rank, id: slot.id) }
                if slot.key == Self.empty { return nil }
                index = (index + 1) & mask
            }
        }
    }
}
