import Collectives
import Foundation
import TensorCore

/// Data parallelism over the ranks of a `Communicator`: which share of a batch a rank takes, the
/// gradient sum between backward and clipping, and the weights check that proves every rank holds
/// the same model. With one rank every function is the identity.
public enum DataParallel {
    /// The part of `count` items (groups, rows) rank `rank` of `size` takes: contiguous, in order,
    /// the same length on every rank (callers check `size` divides `count` first).
    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let per = count / size
        return (rank * per)..<((rank + 1) * per)
    }

    /// Checks that `size` ranks can split `count` items of `key` evenly.
    static func checkDivisible(_ count: Int, by size: Int, key: String, what: String) throws {
        guard count % size != 0 else { return }
        throw DataParallelError.indivisible(key: key, reason: "its \(count) \(what) do not split evenly over \(size) ranks")
    }

    /// Sums the gradients of `parameters` over the ranks, in place, in one fused buffer (MPI
    /// buckets it when large): called after the last backward of a step, before clipping, so
    /// every rank clips and steps with the global gradient.
    public static func sumGradients(_ parameters: ParameterSet, _ communicator: any Communicator) throws {
        guard communicator.size > 1 else { return }
        try communicator.allreduceSum(parameters.grads.pointer, count: parameters.count)
    }

    /// A 64-bit fingerprint of a flat Float buffer's bits (FNV-1a over 32-bit words folded with a
    /// multiply-xorshift): equal weights give equal hashes, one flipped bit a different one.
    public static func fingerprint(_ values: UnsafePointer<Float>, count: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        values.withMemoryRebound(to: UInt32.self, capacity: count) { words in
            for i in 0..<count { h = (h ^ UInt64(words[i])) &* 0x0000_0100_0000_01b3 }
        }
        h ^= h >> 33
        return h &* 0xff51_afd7_ed55_8ccd
    }

    /// The fingerprints of every model a run's checkpoint parts hold (the policy; PPO's value model).
    static func fingerprints(_ parts: [any CheckpointPart]) -> [UInt64] {
        parts.compactMap { ($0 as? ModelState)?.model.trainable }.map { fingerprint($0.values.pointer, count: $0.count) }
    }

    /// Throws `weightsDiverged` unless every rank's models hash alike (after `step` steps).
    static func checkWeightsAgree(_ parts: [any CheckpointPart], step: Int, _ communicator: any Communicator) throws {
        guard communicator.size > 1 else { return }
        let mine = fingerprints(parts)
        let all = try communicator.allgather(mine)
        guard all.allSatisfy({ $0 == all[0] }) else {
            throw DataParallelError.weightsDiverged(step: step, hashes: all.map { $0.map { String(format: "%016llx", $0) }.joined(separator: "/") })
        }
    }
}

/// Errors of a run split over ranks.
public enum DataParallelError: Error, LocalizedError, CustomStringConvertible, Equatable {
    /// A setting the ranks cannot split.
    case indivisible(key: String, reason: String)
    /// A setting that does not run on more than one rank (GRPO's dynamic_sampling).
    case unsupported(feature: String, reason: String)
    /// The ranks' weights hashes differ: one rank's update was not the others'.
    case weightsDiverged(step: Int, hashes: [String])

    public var description: String {
        switch self {
        case .indivisible(let key, let reason): return "\(key): \(reason)"
        case .unsupported(let feature, let reason): return "\(feature) does not run on several ranks: \(reason)"
        case .weightsDiverged(let step, let hashes):
            return "the ranks' weights differ after step \(step) (hash per rank: \(hashes.joined(separator: ", "))); stopping"
        }
    }

    public var errorDescription: String? { description }
}
