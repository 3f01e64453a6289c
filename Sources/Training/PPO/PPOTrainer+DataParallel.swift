import Collectives
import Generation

/// PPO split over ranks: each rank samples, scores and runs the frozen passes on a contiguous
/// share of the rollout rows; the rollout is then gathered, so every rank holds the whole batch
/// (B x T) and computes the same rewards, GAE and whitening (`PPOMath` over the real tokens of the
/// whole batch), the same seeded shuffles and micro-batches. Each rank runs its share of each
/// micro-batch's rows, with the whole micro-batch's counts as denominators (`PPOLoss.Counts`); the
/// gradients of both models are summed before clipping and every rank takes the same AdamW steps.
extension PPOTrainer {
    /// Ranks take equal shares of each micro-batch's rows (and so of each rollout batch).
    public func checkDataParallel(ranks: Int) throws {
        try DataParallel.checkDivisible(config.training.batchSize, by: ranks, key: "per_device_train_batch_size", what: "rows of a micro-batch")
    }

    /// The whole rollout's responses: every rank's token ids and truncations, in row order.
    struct GatheredResponses {
        let ids: [[Int32]]  // (B) rows of L_i + 1 tokens
        let truncated: [Bool]  // (B)

        init(_ local: [Completion], _ comm: any Communicator) throws {
            let lengths = try comm.allgather(local.map { Int32($0.ids.count) }).flatMap { $0 }
            let flat = try comm.allgather(local.flatMap(\.ids)).flatMap { $0 }
            var offset = 0
            ids = lengths.map { n in
                defer { offset += Int(n) }
                return Array(flat[offset..<(offset + Int(n))])
            }
            truncated = try comm.allgather(local.map { $0.finishReason == .length ? UInt8(1) : 0 }).flatMap { $0 }.map { $0 == 1 }
        }
    }

    /// Every rank's rows of a row-major (rows, T) array, in row order.
    func gatherRows(_ local: [Double], _ comm: any Communicator) throws -> [Double] {
        try comm.allgather(local).flatMap { $0 }
    }

    /// Each key's values summed over the ranks: `parts` holds this rank's part of each micro-batch's
    /// statistics (the same keys on every rank); returns, per key, one whole figure per micro-batch.
    static func summed(_ parts: [[String: Double]], _ comm: any Communicator) throws -> [String: [Double]] {
        let keys = (parts.first ?? [:]).keys.sorted()
        let total = try comm.allreduce(keys.flatMap { key in parts.map { $0[key] ?? 0 } }, .sum)  // (keys x micro-batches)
        return Dictionary(uniqueKeysWithValues: keys.enumerated().map { k, key in
            (key, Array(total[(k * parts.count)..<((k + 1) * parts.count)]))
        })
    }

    /// The slowest rank's time for each timed part of the step.
    static func slowest(_ timing: [String: Double], _ comm: any Communicator) throws -> [String: Double] {
        let keys = timing.keys.sorted()
        return Dictionary(uniqueKeysWithValues: zip(keys, try comm.allreduce(keys.map { timing[$0] ?? 0 }, .max)))
    }
}
