import ArgumentParser
import Foundation
import Rewards
import Tasks
import Tokenization

/// Dataset rows as the trainers take them: prompt text (through the chat template when asked) and
/// the columns rewards and verifiers read.
struct TrainingData {
    let tokenizer: Tokenizer
    let useChatTemplate: Bool
    let template: ChatTemplate?

    init(tokenizer: Tokenizer, useChatTemplate: Bool) throws {
        self.tokenizer = tokenizer
        self.useChatTemplate = useChatTemplate
        if useChatTemplate {
            guard let source = tokenizer.chatTemplate else {
                throw ValidationError("use_chat_template is set but the tokenizer has no chat template")
            }
            template = try ChatTemplate(source: source)
        } else {
            template = nil
        }
    }

    static func rows(_ path: String, skipBadLines: Bool = false) throws -> [Row] {
        let result = try JSONL.read(URL(fileURLWithPath: path), skipBadLines: skipBadLines)
        if result.skipped > 0 { print("\(path): skipped \(result.skipped) malformed line(s): \(result.skippedLines.prefix(10))") }
        return result.rows
    }

    /// The prompt as text for the model.
    func promptText(_ row: Row) throws -> String {
        switch row.prompt {
        case .text(let text):
            guard let template else { return text }
            return try render(template, [["role": "user", "content": text]])
        case .messages(let messages):
            guard let template else {
                throw ValidationError("a row has chat messages as its prompt: set use_chat_template: true")
            }
            return try render(template, messages.map { ["role": $0.role, "content": $0.content] })
        }
    }

    private func render(_ template: ChatTemplate, _ messages: [[String: String]]) throws -> String {
        var extra: [String: JinjaValue] = [:]
        if let bos = tokenizer.config.bosToken { extra["bos_token"] = .string(bos) }
        if let eos = tokenizer.config.eosToken { extra["eos_token"] = .string(eos) }
        return try template.render(messages: messages, addGenerationPrompt: true, extra: extra)
    }

    /// A verifier for held-out accuracy by name: `math_answer` (final answer vs `answer`),
    /// `countdown` (the expression vs `numbers`/`target`), `none`.
    static func verifier(_ name: String) -> (String, [String: JSONValue]) -> Bool? {
        switch name {
        case "countdown":
            return { text, columns in
                guard let numbers = columns["numbers"]?.arrayValue?.compactMap(\.intValue), let target = columns["target"]?.intValue else {
                    return nil
                }
                return CountdownVerifier().check(completion: text, numbers: numbers, target: target) == .correct
            }
        case "none": return { _, _ in nil }
        default: return { text, columns in columns["answer"].flatMap { AnswerExtractor.matches(completion: text, answer: $0) } }
        }
    }
}
