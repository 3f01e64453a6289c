/// One chat message, `{"role": ..., "content": ...}` as in Hugging Face conversational datasets.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public var jsonValue: JSONValue { .object(["role": .string(role), "content": .string(content)]) }

    /// Reads `{"role": string, "content": string}`; nil for anything else.
    public init?(json: JSONValue) {
        guard let object = json.objectValue, let role = object["role"]?.stringValue,
              let content = object["content"]?.stringValue else { return nil }
        self.init(role: role, content: content)
    }

    /// A list of messages, or nil when `json` is not an array of messages.
    public static func list(_ json: JSONValue) -> [ChatMessage]? {
        guard let items = json.arrayValue else { return nil }
        let messages = items.compactMap(ChatMessage.init(json:))
        return messages.count == items.count ? messages : nil
    }
}
