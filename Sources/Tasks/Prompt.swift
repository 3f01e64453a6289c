/// A dataset prompt: plain text for a base model, or chat messages to render with a chat template.
public enum Prompt: Sendable, Hashable {
    case text(String)
    case messages([ChatMessage])

    public var jsonValue: JSONValue {
        switch self {
        case let .text(text): .string(text)
        case let .messages(messages): .array(messages.map(\.jsonValue))
        }
    }

    /// Reads a string or a list of `{role, content}`; nil for anything else.
    public init?(json: JSONValue) {
        if let text = json.stringValue {
            self = .text(text)
        } else if let messages = ChatMessage.list(json) {
            self = .messages(messages)
        } else {
            return nil
        }
    }
}
