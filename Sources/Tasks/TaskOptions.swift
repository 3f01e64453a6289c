/// Options for building a built-in task by name; nil means the task's default. An option that does not
/// apply to the chosen task is an error (so a typo'd combination is never silently ignored).
public struct TaskOptions: Sendable, Hashable {
    /// arithmetic: digits per operand (default 3).
    public var digits: Int?
    /// arithmetic: operation symbols "+", "-", "*" (default ["+"]).
    public var operations: [String]?
    /// countdown: how many numbers per problem (default 3...4).
    public var numberCount: ClosedRange<Int>?
    /// countdown: numbers are drawn from 1...maxNumber (default 100).
    public var maxNumber: Int?
    /// countdown: targets lie in 1...maxTarget (default 1000).
    public var maxTarget: Int?
    /// countdown: every number must be used exactly once, not at most once (default false).
    public var exactlyOnce: Bool?

    public init(digits: Int? = nil, operations: [String]? = nil, numberCount: ClosedRange<Int>? = nil,
                maxNumber: Int? = nil, maxTarget: Int? = nil, exactlyOnce: Bool? = nil) {
        self.digits = digits
        self.operations = operations
        self.numberCount = numberCount
        self.maxNumber = maxNumber
        self.maxTarget = maxTarget
        self.exactlyOnce = exactlyOnce
    }

    /// The names of the options that are set.
    var setOptions: [String] {
        [("digits", digits != nil), ("operations", operations != nil), ("numbers", numberCount != nil),
         ("max_number", maxNumber != nil), ("max_target", maxTarget != nil), ("exactly_once", exactlyOnce != nil)]
            .filter(\.1).map(\.0)
    }
}
