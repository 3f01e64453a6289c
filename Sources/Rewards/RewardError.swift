import Foundation

/// The Rewards module's one error type.
public enum RewardError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    /// A reward name that is not built in.
    case unknownReward(name: String, known: [String])
    /// A batch whose completions and column rows differ in number.
    case columnCountMismatch(reward: String, completions: Int, columns: Int)
    /// A reward returned a different number of scores than it was given completions.
    case wrongScoreCount(reward: String, expected: Int, actual: Int)
    /// A reward did not return within the runner's timeout.
    case timedOut(reward: String, seconds: Double)
    /// An external reward command failed: it could not start, died, or wrote something else than a rewards line.
    case commandFailed(reward: String, reason: String)
    /// A reward option out of range.
    case invalidOption(reward: String, option: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case let .unknownReward(name, known):
            "unknown reward '\(name)'; known rewards: \(known.joined(separator: ", "))"
        case let .columnCountMismatch(reward, completions, columns):
            "reward '\(reward)': \(completions) completions but \(columns) rows of columns"
        case let .wrongScoreCount(reward, expected, actual):
            "reward '\(reward)' returned \(actual) scores for \(expected) completions"
        case let .timedOut(reward, seconds):
            "reward '\(reward)' did not return within \(seconds) s"
        case let .commandFailed(reward, reason):
            "reward '\(reward)': \(reason)"
        case let .invalidOption(reward, option, expected, actual):
            "reward '\(reward)': option '\(option)' expected \(expected), got \(actual)"
        }
    }

    public var errorDescription: String? { description }
}
