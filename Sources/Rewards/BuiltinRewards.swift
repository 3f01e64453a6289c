/// The registry of built-in rewards, by the names configs use (`reward_funcs`), with default options;
/// build the types directly for other options.
public enum BuiltinRewards {
    public static let names = ["math_answer", "format", "soft_format", "countdown", "equation_steps", "reference_steps", "length"]

    public static func make(_ name: String, weight: Double = 1) throws -> any Reward {
        switch name {
        case "math_answer": MathAnswerReward(weight: weight)
        case "format": FormatReward(weight: weight)
        case "soft_format": FormatReward(weight: weight, soft: true)
        case "countdown": CountdownReward(weight: weight)
        case "equation_steps": EquationStepsReward(weight: weight)
        case "reference_steps": ReferenceStepsReward(weight: weight)
        case "length": try LengthPenalty(weight: weight)
        default: throw RewardError.unknownReward(name: name, known: names)
        }
    }
}
