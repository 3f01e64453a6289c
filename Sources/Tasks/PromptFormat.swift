/// How a problem becomes a prompt and a target completion: plain text or chat messages, with or without the
/// DeepSeek-R1 instruction to think inside <think></think> and answer inside <answer></answer>.
///
/// Prompts stay short for small models:
///
///     plain    "123+456="                                                -> "579"
///     r1       "What is 123+456? Think inside <think></think>, then ..." -> "<think>123+456=579</think><answer>579</answer>"
///     chat     [user: "What is 123+456?"]                                -> [assistant: "579"]
///     chat-r1  [system: instruction, user: "What is 123+456?"]           -> [assistant: "<think>...</think><answer>579</answer>"]
///
/// Chat completions are written as a list of messages, TRL's conversational prompt-completion form.
public struct PromptFormat: Sendable, Hashable, CustomStringConvertible {
    public enum Layout: String, Sendable, Hashable {
        case text, chat
    }

    public var layout: Layout
    /// The R1 instruction in the prompt and <think>/<answer> tags in the completion.
    public var reasoning: Bool

    public init(layout: Layout, reasoning: Bool) {
        self.layout = layout
        self.reasoning = reasoning
    }

    public static let plain = PromptFormat(layout: .text, reasoning: false)
    public static let r1 = PromptFormat(layout: .text, reasoning: true)
    public static let chat = PromptFormat(layout: .chat, reasoning: false)
    public static let chatR1 = PromptFormat(layout: .chat, reasoning: true)

    public static let all: [PromptFormat] = [.plain, .r1, .chat, .chatR1]
    public static var names: [String] { all.map(\.name) }

    /// "plain", "r1", "chat" or "chat-r1".
    public init?(name: String) {
        guard let format = PromptFormat.all.first(where: { $0.name == name }) else { return nil }
        self = format
    }

    public var name: String {
        switch (layout, reasoning) {
        case (.text, false): "plain"
        case (.text, true): "r1"
        case (.chat, false): "chat"
        case (.chat, true): "chat-r1"
        }
    }

    public var description: String { name }

    /// The R1-style instruction, kept to one short sentence.
    public static let instruction = "Think inside <think></think>, then answer inside <answer></answer>."

    public func prompt(for problem: Problem) -> Prompt {
        switch (layout, reasoning) {
        case (.text, false): .text(problem.barePrompt)
        case (.text, true): .text(problem.question + " " + PromptFormat.instruction)
        case (.chat, false): .messages([ChatMessage(role: "user", content: problem.question)])
        case (.chat, true): .messages([ChatMessage(role: "system", content: PromptFormat.instruction),
                                       ChatMessage(role: "user", content: problem.question)])
        }
    }

    /// A correct completion in this format, as text.
    public func completionText(for problem: Problem) -> String {
        reasoning ? "<think>\(problem.working)</think><answer>\(problem.answer)</answer>" : problem.answer
    }

    /// A correct completion as a dataset column: text, or one assistant message for chat.
    public func completion(for problem: Problem) -> JSONValue {
        let text = completionText(for: problem)
        return layout == .chat ? .array([ChatMessage(role: "assistant", content: text).jsonValue]) : .string(text)
    }

    /// The dataset row: `prompt`, `answer`, `completion` and the problem's own columns.
    public func row(for problem: Problem) -> Row {
        var columns = problem.columns
        columns["answer"] = .string(problem.answer)
        columns["completion"] = completion(for: problem)
        return Row(prompt: prompt(for: problem), columns: columns)
    }
}
