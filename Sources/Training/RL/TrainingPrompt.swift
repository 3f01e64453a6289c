import Tasks

/// A prompt of an RL trainer's data: its text, its tokens, and the dataset columns rewards read.
public struct TrainingPrompt: Sendable {
    public var text: String
    public var ids: [Int32]
    public var columns: [String: JSONValue]

    public init(text: String, ids: [Int32], columns: [String: JSONValue]) {
        self.text = text
        self.ids = ids
        self.columns = columns
    }

    /// The prompts of a JSONL file, formatted (chat template when asked) and encoded; each must
    /// leave room for `completionTokens` new tokens within the model's `positions`.
    public static func load(_ path: String, formatter: PromptFormatter, codec: TextCodec, positions: Int, completionTokens: Int,
                            skipBadLines: Bool, log: (String) -> Void) throws -> [TrainingPrompt] {
        try load(rows: try DatasetFile.rows(path, skipBadLines: skipBadLines, log: log), file: path, formatter: formatter, codec: codec,
                 positions: positions, completionTokens: completionTokens)
    }

    /// The prompts of rows already read from `file`.
    public static func load(rows: [Row], file path: String, formatter: PromptFormatter, codec: TextCodec, positions: Int,
                            completionTokens: Int) throws -> [TrainingPrompt] {
        try rows.enumerated().map { i, row in
            let text = try formatter.text(row, file: path)
            let ids = try codec.encode(text)
            guard !ids.isEmpty else { throw RunSetupError.missingColumn(file: path, row: i + 1, column: "prompt (non-empty)") }
            guard ids.count + completionTokens <= positions else {
                throw RunSetupError.tooLong(file: path, row: i + 1, tokens: ids.count + completionTokens, limit: positions)
            }
            // The prompt as written reaches rewards as the `prompt` column, as TRL passes prompts to
            // reward functions (HumanEval's tests complete it; reward models score it with the completion).
            var columns = row.columns
            if columns["prompt"] == nil, case .text(let raw) = row.prompt { columns["prompt"] = .string(raw) }
            return TrainingPrompt(text: text, ids: ids, columns: columns)
        }
    }
}
