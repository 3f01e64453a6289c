import Rewards
import Tasks

/// The columns the configured rewards read, checked on the rows before training: a row a reward
/// must judge that lacks one is an error naming the file, the row and the column. (Unchecked, each
/// of its completions scores nil, and a run of such rows stops after max_unjudgeable_steps.)
enum RewardColumns {
    /// `functions` as `reward_funcs` names them (a `?column=value` selector limits the check to the
    /// rows it selects).
    static func check(_ functions: [String], prompts: [TrainingPrompt], file: String) throws {
        for spec in functions {
            guard let (name, selector) = try? SelectedReward.split(spec) else { continue }
            let required = BuiltinRewards.requiredColumns(name)
            guard !required.isEmpty else { continue }
            for (index, prompt) in prompts.enumerated() {
                if let selector, !SelectedReward.selects(column: selector.column, value: selector.value, prompt.columns) { continue }
                if let missing = required.first(where: { prompt.columns[$0] == nil || prompt.columns[$0] == .null }) {
                    throw RunSetupError.missingColumn(file: file, row: index + 1, column: "\(missing) (read by \(name))")
                }
            }
        }
    }
}
