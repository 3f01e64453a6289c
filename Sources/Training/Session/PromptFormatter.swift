import Foundation
import Tasks
import Tokenization

/// A row's prompt as the text the model sees: as written, or through the tokenizer's chat
/// template (one user message, or the row's messages) with the generation prompt.
public struct PromptFormatter {
    let tokenizer: Tokenizer
    let template: ChatTemplate?
    /// Put before a text prompt in the user message (e.g. how to answer a HumanEval function).
    let instruction: String?

    /// With `useChatTemplate`, the tokenizer must have a chat template.
    public init(tokenizer: Tokenizer, useChatTemplate: Bool, model: String, instruction: String? = nil) throws {
        self.tokenizer = tokenizer
        self.instruction = instruction
        if useChatTemplate {
            guard let source = tokenizer.chatTemplate else { throw RunSetupError.noChatTemplate(model: model) }
            template = try ChatTemplate(source: source, file: tokenizer.config.chatTemplateFile ?? model)
        } else {
            template = nil
        }
    }

    /// The prompt text of `row` (of `file`, for errors).
    public func text(_ row: Row, file: String) throws -> String {
        switch row.prompt {
        case .text(let text):
            guard let template else { return text }
            let content = instruction.map { "\($0)\n```python\n\(text)```" } ?? text
            return try render(template, [["role": "user", "content": content]])
        case .messages(let messages):
            guard let template else { throw RunSetupError.messagesNeedChatTemplate(file: file) }
            return try render(template, messages.map { ["role": $0.role, "content": $0.content] })
        }
    }

    /// The prompt of `row` followed by a reply (a preference pair's chosen or rejected side): text is
    /// appended to the prompt text; messages continue the conversation through the chat template
    /// (without a generation prompt). Whether the reply was conversational is returned too.
    public func text(_ row: Row, reply: [ChatMessage]?, orText replyText: String?, file: String) throws -> (text: String, conversational: Bool) {
        if let replyText { return (try text(row, file: file) + replyText, false) }
        guard let template else { throw RunSetupError.messagesNeedChatTemplate(file: file) }
        let prompt: [ChatMessage] = switch row.prompt {
        case .text(let text): [ChatMessage(role: "user", content: text)]
        case .messages(let messages): messages
        }
        return (try render(template, (prompt + (reply ?? [])).map { ["role": $0.role, "content": $0.content] }, generationPrompt: false), true)
    }

    private func render(_ template: ChatTemplate, _ messages: [[String: String]], generationPrompt: Bool = true) throws -> String {
        var extra: [String: JinjaValue] = [:]
        if let bos = tokenizer.config.bosToken { extra["bos_token"] = .string(bos) }
        if let eos = tokenizer.config.eosToken { extra["eos_token"] = .string(eos) }
        return try template.render(messages: messages, addGenerationPrompt: generationPrompt, extra: extra)
    }
}

/// A JSONL dataset file's rows, with malformed lines skipped (and reported through `log`) when asked.
public enum DatasetFile {
    public static func rows(_ path: String, skipBadLines: Bool = false, log: (String) -> Void = { print($0) }) throws -> [Row] {
        let result = try JSONL.read(URL(fileURLWithPath: path), skipBadLines: skipBadLines)
        if result.skipped > 0 { log("\(path): skipped \(result.skipped) malformed line(s): \(result.skippedLines.prefix(10))") }
        guard !result.rows.isEmpty else { throw RunSetupError.emptyDataset(file: path) }
        return result.rows
    }
}
