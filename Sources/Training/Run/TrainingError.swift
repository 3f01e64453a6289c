import Foundation

/// Errors that stop a run while it trains.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// No completion could be judged for `steps` steps in a row; one reason per reward function.
    case unjudgeable(steps: Int, rewards: [String])
    /// The loss or gradient was not finite for `steps` steps in a row, the last being `lastStep`.
    case nonfinite(steps: Int, lastStep: Int)
    /// SIGINT or SIGTERM stopped the run after `step`, saved in `checkpoint`.
    case interrupted(signal: Int, step: Int, checkpoint: String)

    /// The exit status a shell gives a process the signal ended: 128 + its number (130, 143).
    public var exitStatus: Int32? {
        if case let .interrupted(signal, _, _) = self { return Int32(128 + signal) }
        return nil
    }

    public var description: String {
        switch self {
        case let .unjudgeable(steps, rewards):
            return "no completion could be judged for \(steps) steps in a row (max_unjudgeable_steps), so the run cannot learn: "
                + rewards.joined(separator: "; ")
        case let .nonfinite(steps, lastStep):
            return "the loss or gradient was NaN or infinite for \(steps) steps in a row (steps \(lastStep - steps + 1)-\(lastStep); "
                + "max_nonfinite_steps), each skipped, so the weights are those of step \(lastStep - steps) and no checkpoint holds a NaN; "
                + "lower learning_rate, set max_grad_norm, or check the model's weights and the data"
        case let .interrupted(signal, step, checkpoint):
            let name = signal == Int(SIGINT) ? "SIGINT" : signal == Int(SIGTERM) ? "SIGTERM" : "signal \(signal)"
            return "stopped by \(name) after step \(step); saved \(checkpoint); continue with --resume"
        }
    }
}
