import Dispatch
import Foundation
import Synchronization
import Tasks

/// Calls every reward once per batch, each on its own thread, waiting at most `timeout` seconds. A
/// process reward is called once for its steps, and its outcome scores are derived from them.
///
/// A reward that throws, returns the wrong number of scores or times out yields nil for every completion of
/// that call (and no steps), and is counted in `statistics`. Non-finite scores (NaN, infinity) become nil. A timed-out call
/// cannot be stopped (threads cannot be killed safely); it is abandoned and its result discarded when it ends,
/// so a reward that hangs forever costs one parked thread per call.
public final class RewardRunner: Sendable {
    public let rewards: [any Reward]
    /// Seconds each call may take, measured from the start of the batch (the rewards run concurrently).
    public let timeout: Double
    private let counters: Mutex<[RewardStatistics]>

    public init(rewards: [any Reward], timeout: Double = 30) {
        self.rewards = rewards
        self.timeout = timeout
        counters = Mutex(rewards.map { RewardStatistics(name: $0.name) })
    }

    /// Totals per reward, in the order of `rewards`.
    public var statistics: [RewardStatistics] { counters.withLock { $0 } }

    /// Cumulative rewards/<name>/failures and rewards/<name>/timeouts.
    public var metrics: [String: Double] {
        var metrics: [String: Double] = [:]
        for s in statistics {
            metrics["rewards/\(s.name)/failures"] = Double(s.failures)
            metrics["rewards/\(s.name)/timeouts"] = Double(s.timeouts)
            metrics["rewards/\(s.name)/nonfinite"] = Double(s.nonfinite)
        }
        return metrics
    }

    /// Scores a batch; `columns[i]` are the dataset columns of completion i's row.
    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> RewardBatch {
        guard completions.count == columns.count else {
            throw RewardError.columnCountMismatch(reward: "*", completions: completions.count, columns: columns.count)
        }
        let start = DispatchTime.now()
        let calls = rewards.map { PendingCall(reward: $0, completions: completions, columns: columns) }
        let results = calls.map { $0.wait(until: start + timeout) }
        var batch = RewardBatch(names: rewards.map(\.name), weights: rewards.map(\.weight), scores: [], steps: [], outcomes: [])
        for (index, result) in results.enumerated() {
            let (scores, steps, outcome) = Self.check(result, reward: rewards[index].name, count: completions.count)
            batch.scores.append(scores)
            batch.steps.append(rewards[index] is any ProcessReward ? steps ?? completions.map { _ in [] } : nil)
            batch.outcomes.append(outcome)
            counters.withLock { all in
                all[index].calls += 1
                all[index].unjudged += scores.filter { $0 == nil }.count
                if case .success(let output) = result.result, case .scored = outcome {
                    all[index].nonfinite += output.scores.filter { $0.map { !$0.isFinite } ?? false }.count
                }
                switch outcome {
                case .scored: all[index].seconds += result.seconds
                case .failed: all[index].failures += 1
                case .timedOut: all[index].timeouts += 1
                }
            }
        }
        return batch
    }

    /// The scores, steps and outcome of one call's result: nil everywhere (and no steps) unless it
    /// returned `count` scores (and step lists).
    private static func check(_ result: PendingCall.Finished, reward: String, count: Int)
        -> ([Double?], [[(end: Int, reward: Double)]]?, RewardBatch.Outcome) {
        let unjudged = [Double?](repeating: nil, count: count)
        switch result.result {
        case nil:
            return (unjudged, nil, .timedOut)
        case let .failure(error):
            return (unjudged, nil, .failed("\(error)"))
        case let .success(output) where output.scores.count != count || (output.steps.map { $0.count != count } ?? false):
            let actual = output.steps?.count ?? output.scores.count
            return (unjudged, nil, .failed(RewardError.wrongScoreCount(reward: reward, expected: count, actual: actual).description))
        case let .success(output):
            let steps = output.steps?.map { $0.filter { $0.reward.isFinite } }
            return (output.scores.map { $0.flatMap { $0.isFinite ? $0 : nil } }, steps, .scored)
        }
    }
}

/// One reward call running on its own thread.
private final class PendingCall: Sendable {
    struct Output {
        var scores: [Double?]
        var steps: [[(end: Int, reward: Double)]]?
    }

    struct Finished {
        /// nil when the call had not returned by the deadline.
        var result: Result<Output, any Error>?
        var seconds: Double
    }

    private let done = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Finished?>(nil)

    init(reward: any Reward, completions: [String], columns: [[String: JSONValue]]) {
        let thread = Thread { [self] in
            let start = DispatchTime.now()
            let result = Result { () throws -> Output in
                if let process = reward as? any ProcessReward {
                    let steps = try process.stepScores(completions: completions, columns: columns)
                    return Output(scores: stepOutcomes(steps), steps: steps)
                }
                return Output(scores: try reward.score(completions: completions, columns: columns), steps: nil)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            outcome.withLock { $0 = Finished(result: result, seconds: seconds) }
            done.signal()
        }
        thread.name = "reward \(reward.name)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    func wait(until deadline: DispatchTime) -> Finished {
        guard done.wait(timeout: deadline) == .success else { return Finished(result: nil, seconds: 0) }
        return outcome.withLock { $0 } ?? Finished(result: nil, seconds: 0)
    }
}
