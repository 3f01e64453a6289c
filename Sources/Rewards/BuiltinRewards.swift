/// The registry of built-in rewards, by the names configs use (`reward_funcs`), with default options;
/// build the types directly for other options.
public enum BuiltinRewards {
    public static let names = ["math_answer", "reasoning_gym", "format", "soft_format", "countdown", "equation_steps", "reference_steps", "length",
                               "consistency", "code_runs", "code_tests", "code_tests_binary"]

    public static func make(_ name: String, weight: Double = 1) throws -> any Reward {
        switch name {
        case "math_answer": MathAnswerReward(weight: weight)
        case "reasoning_gym": ReasoningGymReward(weight: weight)
        case "format": FormatReward(weight: weight)
        case "soft_format": FormatReward(weight: weight, soft: true)
        case "countdown": CountdownReward(weight: weight)
        case "equation_steps": EquationStepsReward(weight: weight)
        case "reference_steps": ReferenceStepsReward(weight: weight)
        case "length": try LengthPenalty(weight: weight)
        case "consistency": ConsistencyReward(weight: weight)
        case "code_runs": CodeReward(.runs, weight: weight, sandbox: try SharedSandbox.get())
        case "code_tests": CodeReward(.tests, weight: weight, sandbox: try SharedSandbox.get())
        case "code_tests_binary": CodeReward(.testsBinary, weight: weight, sandbox: try SharedSandbox.get())
        default: throw RewardError.unknownReward(name: name, known: names)
        }
    }

    /// The dataset columns a built-in reward (or verifier of the same name) cannot judge a row without.
    public static func requiredColumns(_ name: String) -> [String] {
        switch name {
        case "math_answer": ["answer"]
        case "reasoning_gym": ["answer", "source_dataset"]
        case "countdown": ["numbers", "target"]
        default: []
        }
    }
}

/// The sandbox the built-in code rewards share: made (and probed) once, with the default limits.
public enum SharedSandbox {
    private static let made = Mutex<Sandbox?>(nil)

    public static func get() throws -> Sandbox {
        try made.withLock { made in
            if let made { return made }
            let sandbox = try Sandbox()
            made = sandbox
            return sandbox
        }
    }
}

import Sandbox
import Synchronization
