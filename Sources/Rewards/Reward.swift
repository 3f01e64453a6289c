import Tasks

/// A reward function, TRL's contract: a batch of completions in, one optional score per completion out.
///
/// `columns[i]` holds the dataset columns of completion i's row (every column except `prompt`: `answer`,
/// `solution`, `numbers`, ...), so rewards read what they need by name. A nil score means "cannot judge"
/// (e.g. the row has no `answer`) and is never turned into a fake 0. `RewardRunner` calls each reward once
/// per batch on its own thread with a timeout; a reward that throws or times out scores nil for the whole
/// call and is counted.
public protocol Reward: Sendable {
    /// The metric name: rewards/<name>/mean.
    var name: String { get }
    /// The factor this reward's scores get in the combined reward.
    var weight: Double { get }
    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?]
}

extension Reward {
    /// Scores each completion on its own; for rewards that need nothing from the rest of the batch.
    func scoreEach(_ completions: [String], _ columns: [[String: JSONValue]],
                   _ score: (String, [String: JSONValue]) -> Double?) throws -> [Double?] {
        guard completions.count == columns.count else {
            throw RewardError.columnCountMismatch(reward: name, completions: completions.count, columns: columns.count)
        }
        return zip(completions, columns).map(score)
    }
}
