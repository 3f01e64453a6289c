import Synchronization

/// Remembers the token ids of recently encoded words (pre-tokenizer pieces, as bytes), so common
/// words skip the BPE merge loop. An open-addressing table over byte arenas: a lookup hashes the
/// bytes in place, with no allocation. When full it starts over, like Hugging Face's cache.
struct WordCache: ~Copyable {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyCount: Int32
        var idsStart: Int32
        var idsCount: Int32
    }

    /// Words longer than this are not cached (Hugging Face's MAX_LENGTH).
    static let maxWordLength = 256

    private let capacity: Int
    private var slots: [Int32]  // index into `entries`, or -1; twice `capacity`, a power of two
    private var entries: [Entry] = []
    private var keys: [UInt8] = []
    private var ids: [Int32] = []

    init(capacity: Int = 1 << 17) {
        self.capacity = capacity
        var slotCount = 1
        while slotCount < 2 * capacity { slotCount <<= 1 }
        slots = [Int32](repeating: -1, count: slotCount)
    }

    /// FNV-1a over the bytes.
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// Appends the cached ids of `key` to `out`; false if it is not cached.
    func lookup(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, appendingTo out: inout [Int]) -> Bool {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 {
            let entry = entries[Int(slots[slot])]
            if entry.hash == hash, Int(entry.keyCount) == key.count, equals(entry, key) {
                for i in Int(entry.idsStart)..<Int(entry.idsStart + entry.idsCount) { out.append(Int(ids[i])) }
                return true
            }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// Stores the ids of `key` (the caller checked it is not cached).
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, ids newIDs: ArraySlice<Int>) {
        if entries.count >= capacity || keys.count + key.count > Int(Int32.max) { removeAll() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(hash: hash, keyStart: Int32(keys.count), keyCount: Int32(key.count),
                             idsStart: Int32(ids.count), idsCount: Int32(newIDs.count)))
        keys.append(contentsOf: key)
        for id in newIDs { ids.append(Int32(truncatingIfNeeded: id)) }
    }

    private mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        entries.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }

    private func equals(_ entry: Entry, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(entry.keyStart)
        for i in 0..<key.count where keys[start + i] != key[i] { return false }
        return true
    }
}

/// A `WordCache` shared by the threads encoding with one tokenizer.
final class SharedWordCache: Sendable {
    private let cache = Mutex(WordCache())

    func lookup(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, appendingTo out: inout [Int]) -> Bool {
        cache.withLock { $0.lookup(key, hash: hash, appendingTo: &out) }
    }

    func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: ArraySlice<Int>) {
        cache.withLock { $0.insert(key, hash: hash, ids: ids) }
    }
}
