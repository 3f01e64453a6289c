import Rewards
import Tasks

/// The reward functions of an RL run, called through one `RewardRunner`: each function once per
/// batch, under the timeout. A call that fails or times out is counted (rewards/<name>/failures,
/// rewards/<name>/timeouts) and logged with its message (the first three of each function, then at
/// every tenfold count), and so are NaN or infinite scores (rewards/<name>/nonfinite, each one
/// cannot-judge); when no completion could be judged for `maxUnjudgeableSteps` steps in a
/// row, the run stops with an error naming the functions and their last messages.
public final class RewardScorer {
    public let runner: RewardRunner
    let maxUnjudgeableSteps: Int
    private var failures: [Int]
    private var lastMessage: [String?]
    /// Non-finite scores per function so far, and the calls that returned any.
    private var nonfiniteSeen: [(scores: Int, calls: Int)]
    private var unjudgeableInARow = 0

    public init(runner: RewardRunner, maxUnjudgeableSteps: Int) {
        self.runner = runner
        self.maxUnjudgeableSteps = maxUnjudgeableSteps
        failures = runner.rewards.map { _ in 0 }
        lastMessage = runner.rewards.map { _ in nil }
        nonfiniteSeen = runner.rewards.map { _ in (0, 0) }
    }

    /// The rewards `config` names, with its weights and timeout: built-in names, `rm:PATH` for a
    /// reward model (a sequence-classification folder), `command:PATH [ARGS]` for an external reward
    /// process; any of them with `?column=value` judges only the rows whose column holds that value.
    public convenience init(_ config: RewardConfig) throws {
        let rewards = try zip(config.functions, config.resolvedWeights).map { spec, weight -> any Reward in
            let (name, selector) = try SelectedReward.split(spec)
            let reward: any Reward
            if name.hasPrefix("rm:") {
                reward = try RewardModelReward.load(String(name.dropFirst(3)), weight: weight)
            } else if name.hasPrefix("command:") {
                // Its own timeout ends the process a little before the runner gives up on the call.
                reward = try CommandReward(command: String(name.dropFirst(8)), weight: weight, timeout: max(config.timeout - 0.5, config.timeout * 0.9))
            } else {
                reward = try BuiltinRewards.make(name, weight: weight)
            }
            return try selector.map { try SelectedReward(reward, column: $0.column, value: $0.value) } ?? reward
        }
        self.init(runner: RewardRunner(rewards: rewards, timeout: config.timeout), maxUnjudgeableSteps: config.maxUnjudgeableSteps)
    }

    public var names: [String] { runner.rewards.map(\.name) }
    public var weights: [Double] { runner.rewards.map(\.weight) }
    public var hasProcessReward: Bool { runner.rewards.contains { $0 is any ProcessReward } }

    /// Scores completions of the given prompts (each reward sees the row's columns and its `prompt`
    /// text, as TRL passes prompts); logs failed calls.
    public func score(completions: [String], prompts: [TrainingPrompt], log: (String) -> Void) throws -> RewardBatch {
        let columns = prompts.map { p in p.columns["prompt"] == nil ? p.columns.merging(["prompt": .string(p.text)]) { a, _ in a } : p.columns }
        let batch = try runner.score(completions: completions, columns: columns)
        for (f, statistics) in runner.statistics.enumerated() where statistics.nonfinite > nonfiniteSeen[f].scores {
            let before = nonfiniteSeen[f].scores, now = statistics.nonfinite
            nonfiniteSeen[f] = (now, nonfiniteSeen[f].calls + 1)
            if nonfiniteSeen[f].calls <= 3 || String(now).count > String(before).count {
                log("reward '\(names[f])' returned \(now - before) NaN or infinite scores (\(now) in all; each counts as cannot-judge)")
            }
        }
        for (f, outcome) in batch.outcomes.enumerated() {
            let message: String
            switch outcome {
            case .scored: continue
            case .failed(let text): message = text
            case .timedOut: message = "did not return within \(runner.timeout) s (reward_timeout)"
            }
            failures[f] += 1
            lastMessage[f] = message
            let n = failures[f]
            if n <= 3 {
                log("reward '\(names[f])' failed (its scores count as cannot-judge): \(message)")
            } else if n == 10 || n == 100 || n == 1000 || n == 10_000 {
                log("reward '\(names[f])' has failed \(n) times; last: \(message)")
            }
        }
        return batch
    }

    /// Records whether any completion of a step could be judged; throws after
    /// `maxUnjudgeableSteps` steps in a row in which none could.
    public func recordStep(judgedAny: Bool) throws {
        unjudgeableInARow = judgedAny ? 0 : unjudgeableInARow + 1
        guard unjudgeableInARow >= maxUnjudgeableSteps else { return }
        let reasons = names.indices.map { f in
            "'\(names[f])': " + (lastMessage[f].map { "failed \(failures[f]) times, last: \($0)" } ?? "scored every completion nil (cannot judge)")
        }
        throw TrainingError.unjudgeable(steps: unjudgeableInARow, rewards: reasons)
    }

    /// Cumulative failure and timeout counts per function.
    public var metrics: [String: Double] { runner.metrics }
}
