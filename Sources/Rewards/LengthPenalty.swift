import Tasks

/// A penalty for long completions, in characters (Swift `Character`s; Rewards does not tokenize):
///
///     score = -min(max(length - targetLength, 0) / scale, maxPenalty)
///
/// so completions up to `targetLength` score 0, each `scale` characters beyond cost 1, and the penalty never
/// exceeds `maxPenalty`. Defaults: target 200, scale 200, max 1.
public struct LengthPenalty: Reward {
    public var name: String
    public var weight: Double
    public var targetLength: Int
    public var scale: Double
    public var maxPenalty: Double

    public init(name: String = "length", weight: Double = 1, targetLength: Int = 200, scale: Double = 200,
                maxPenalty: Double = 1) throws {
        guard targetLength >= 0 else {
            throw RewardError.invalidOption(reward: name, option: "target_length", expected: ">= 0", actual: "\(targetLength)")
        }
        guard scale > 0, scale.isFinite else {
            throw RewardError.invalidOption(reward: name, option: "scale", expected: "> 0", actual: "\(scale)")
        }
        guard maxPenalty >= 0 else {
            throw RewardError.invalidOption(reward: name, option: "max_penalty", expected: ">= 0", actual: "\(maxPenalty)")
        }
        self.name = name
        self.weight = weight
        self.targetLength = targetLength
        self.scale = scale
        self.maxPenalty = maxPenalty
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreEach(completions, columns) { completion, _ in
            -min(Double(max(completion.count - targetLength, 0)) / scale, maxPenalty)
        }
    }
}
