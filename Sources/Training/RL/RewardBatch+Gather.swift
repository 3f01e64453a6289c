import Collectives
import Rewards

extension RewardBatch {
    /// Every rank's scores, in batch order (F rewards x all completions; nil stays nil), for a
    /// batch whose completions the ranks scored in contiguous shares. Process steps are dropped:
    /// they stay with the rank that owns the completion.
    func gathered(_ comm: any Communicator) throws -> RewardBatch {
        let all = try scores.map { row -> [Double?] in
            // (value, judged) pairs: a score may be any Double, nil is "cannot judge".
            let values = try comm.allgather(row.map { $0 ?? 0 }).flatMap { $0 }
            let judged = try comm.allgather(row.map { $0 == nil ? UInt8(0) : 1 }).flatMap { $0 }
            return zip(values, judged).map { $1 == 1 ? $0 : nil }
        }
        return RewardBatch(names: names, weights: weights, scores: all, steps: steps.map { _ in nil }, outcomes: outcomes)
    }
}

extension RewardScorer {
    /// The failure and timeout counts (`metrics`) summed over the ranks.
    func metrics(summedOver comm: any Communicator) throws -> [String: Double] {
        let counts = metrics.sorted { $0.key < $1.key }
        return Dictionary(uniqueKeysWithValues: zip(counts.map(\.key), try comm.allreduce(counts.map(\.value), .sum)))
    }
}
