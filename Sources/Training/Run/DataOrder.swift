import TensorCore

/// The order in which a trainer visits its rows: a seeded shuffle per epoch, walked by the
/// checkpointed cursor (`TrainerState.epoch` and `.position`), so a resume continues exactly.
struct DataOrder {
    let count: Int
    let seed: Int
    private var cached: (epoch: Int, order: [Int])?

    init(count: Int, seed: Int) {
        self.count = count
        self.seed = seed
    }

    /// The next `n` row indices, advancing the cursor (into the next epoch when one runs out).
    mutating func next(_ n: Int, state: inout TrainerState) -> [Int] {
        var picked: [Int] = []
        while picked.count < n {
            if state.position >= count {
                state.epoch += 1
                state.position = 0
            }
            let order = self.order(epoch: state.epoch)
            let take = min(n - picked.count, count - state.position)
            picked += order[state.position..<(state.position + take)]
            state.position += take
        }
        return picked
    }

    /// The shuffled indices of one epoch (cached for the current one).
    mutating func order(epoch: Int) -> [Int] {
        if let cached, cached.epoch == epoch { return cached.order }
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x9E37_79B9 &+ UInt64(epoch))
        var order = Array(0..<count)
        rng.shuffle(&order)
        cached = (epoch, order)
        return order
    }
}
