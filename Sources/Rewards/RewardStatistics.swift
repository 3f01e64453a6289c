/// How one reward's calls have gone so far, for metrics and logs.
public struct RewardStatistics: Sendable, Equatable {
    public var name: String
    public var calls = 0
    /// Calls that threw or returned the wrong number of scores.
    public var failures = 0
    /// Calls abandoned after the timeout.
    public var timeouts = 0
    /// Scores that were NaN or infinite (each counted as cannot-judge).
    public var nonfinite = 0
    /// Completions scored nil (cannot judge), including every completion of failed and timed-out calls.
    public var unjudged = 0
    /// Wall time of the calls that returned in time.
    public var seconds = 0.0

    public init(name: String) {
        self.name = name
    }
}
