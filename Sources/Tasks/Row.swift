/// One dataset row: a `prompt` plus any other columns (`answer`, `completion`, `numbers`, ...), which reach
/// reward functions by name (TRL's convention).
public struct Row: Sendable, Hashable {
    public var prompt: Prompt
    /// Every column except `prompt`.
    public var columns: [String: JSONValue]

    public init(prompt: Prompt, columns: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.columns = columns
    }

    /// Reads a JSON object with a `prompt` that is a string or a list of `{role, content}`; anything else
    /// throws `TaskError.invalidRow` with the reason.
    public init(json: JSONValue) throws(TaskError) {
        guard var object = json.objectValue else { throw TaskError.invalidRow(reason: "expected a JSON object") }
        guard let promptJSON = object.removeValue(forKey: "prompt") else {
            throw TaskError.invalidRow(reason: "no 'prompt' column (columns: \(object.keys.sorted().joined(separator: ", ")))")
        }
        guard let prompt = Prompt(json: promptJSON) else {
            throw TaskError.invalidRow(reason: "'prompt' must be a string or a list of {\"role\", \"content\"} objects")
        }
        self.init(prompt: prompt, columns: object)
    }

    /// The row as one JSON object, `prompt` included.
    public var jsonValue: JSONValue {
        var object = columns
        object["prompt"] = prompt.jsonValue
        return .object(object)
    }

    /// The `completion` column as text: a string as is, or the contents of a list of messages joined.
    public var completionText: String? {
        guard let completion = columns["completion"] else { return nil }
        if let text = completion.stringValue { return text }
        return ChatMessage.list(completion)?.map(\.content).joined()
    }
}
