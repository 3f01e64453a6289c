import Foundation

/// A model's chat template: the Jinja program in `tokenizer_config.json` that turns a conversation into the
/// prompt text, rendered exactly as transformers' `apply_chat_template(..., tokenize=False)` renders it.
///
/// ```swift
/// let template = try ChatTemplate.load(from: modelDirectory)
/// let prompt = try template?.render(messages: [.init(role: "user", content: "Hi")], addGenerationPrompt: true,
///                                   extra: ["bos_token": "<|begin_of_text|>"])
/// ```
/// The Jinja subset (enough for the Qwen2.5, SmolLM2 and Llama 3 / 3.1 / 3.2 templates, checked against
/// transformers by ChatTemplateTests):
/// - `{{ }}`, `{% %}`, `{# #}`, `-`/`+` whitespace control, transformers' `trim_blocks` + `lstrip_blocks`, `raw`;
/// - `if`/`elif`/`else`, `for` (tuple targets, `if` filter, `else`, `break`/`continue`, `loop.index`, `index0`,
///   `revindex`, `first`, `last`, `length`, `previtem`, `nextitem`, `cycle`), `set` (names, `ns.attr`, blocks),
///   `macro` (defaults, `varargs`, `kwargs`, recursion), `generation`;
/// - literals (Python string escapes, lists, dicts, tuples), `+ - * / // % **`, `~`, comparisons (chained),
///   `in`/`not in`, `and`/`or`/`not`, `x if c else y`, attributes, subscripts, slices, calls with keywords,
///   `*items` and `**mapping`;
/// - filters: JinjaFilters.swift (trim, length, tojson, default, join, items, indent, map, select, ...);
///   tests: JinjaTestFunctions.swift (defined, none, string, mapping, iterable, equalto, ...); methods on strings
///   and dicts: JinjaValue+Methods.swift (strip, split, startswith, get, items, ...); globals: JinjaGlobals.swift.
/// Anything else (`call` and `filter` blocks, `include`, unknown filters or tests, ...) is a
/// `TokenizerError.template` naming the construct and line, raised when the template is parsed; runtime errors
/// (undefined attributes, type errors, `raise_exception`, runaway macro recursion) carry the line too.
public struct ChatTemplate: Sendable {
    /// One message of a conversation.
    public struct Message: Sendable, Equatable, Codable {
        public var role: String
        public var content: String

        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public let source: String
    /// The file the template came from, which its parse and render errors name.
    public let file: String?
    private let nodes: [JinjaNode]

    /// Parses the template; syntax errors and unsupported tags, filters or tests throw here.
    public init(source: String, file: String? = nil) throws {
        self.source = source
        self.file = file
        nodes = try Self.naming(file) { try JinjaParser.parse(source) }
    }

    /// Runs `body`, putting `file` in front of a template error's message.
    private static func naming<T>(_ file: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch TokenizerError.template(let message, let line) where file != nil {
            throw TokenizerError.template(message: "\(file ?? ""): \(message)", line: line)
        }
    }

    /// Renders a conversation of arbitrary JSON-like messages (with `tool_calls`, lists of content parts, ...).
    ///
    /// The template sees what transformers passes: `messages`, `add_generation_prompt`, `tools` and `documents`
    /// (None unless given in `extra`), the globals `raise_exception`, `strftime_now`, `namespace`, `dict` and
    /// `range`, and everything in `extra` (`bos_token`, `eos_token`, `tools`, `date_string`, ...).
    /// `strftime_now` formats `now` in `timeZone`; pass a fixed date for reproducible prompts.
    public func render(messages: [JinjaValue], addGenerationPrompt: Bool, extra: [String: JinjaValue] = [:],
                       now: Date = Date(), timeZone: TimeZone = .current) throws -> String {
        var context = JinjaGlobals.make(now: now, timeZone: timeZone)
        context["tools"] = JinjaValue.none
        context["documents"] = JinjaValue.none
        context.merge(extra) { _, new in new }
        context["messages"] = .array(messages)
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        return try Self.naming(file) { try JinjaInterpreter.render(nodes, context: context) }
    }

    /// Renders a conversation of role/content messages.
    public func render(messages: [Message], addGenerationPrompt: Bool, extra: [String: JinjaValue] = [:],
                       now: Date = Date(), timeZone: TimeZone = .current) throws -> String {
        try render(messages: messages.map { ["role": .string($0.role), "content": .string($0.content)] },
                   addGenerationPrompt: addGenerationPrompt, extra: extra, now: now, timeZone: timeZone)
    }

    /// Renders a conversation of string dictionaries; keys are ordered `role`, `content`, then alphabetically.
    public func render(messages: [[String: String]], addGenerationPrompt: Bool, extra: [String: JinjaValue] = [:],
                       now: Date = Date(), timeZone: TimeZone = .current) throws -> String {
        let values = messages.map { message in
            let order: (String) -> (Int, String) = { key in (key == "role" ? 0 : key == "content" ? 1 : 2, key) }
            let keys = message.keys.sorted { order($0) < order($1) }
            return JinjaValue.object(JinjaObject(keys.map { ($0, .string(message[$0] ?? "")) }))
        }
        return try render(messages: values, addGenerationPrompt: addGenerationPrompt, extra: extra, now: now,
                          timeZone: timeZone)
    }

    /// The chat template of a Hugging Face model folder, as transformers finds it: `chat_template.jinja` if present,
    /// else `tokenizer_config.json`'s `chat_template` (a string, or a list of `{name, template}` of which the one
    /// named "default" is used). Nil when the folder has neither.
    public static func load(from modelDirectory: URL) throws -> ChatTemplate? {
        let jinjaFile = modelDirectory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: jinjaFile.path) {
            return try parse(try readText(jinjaFile), file: jinjaFile.lastPathComponent)
        }
        let configFile = modelDirectory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: configFile.path) else { return nil }
        let name = configFile.lastPathComponent
        guard case .object(let config) = try JinjaValue(json: try readText(configFile), source: name) else {
            throw TokenizerError.malformed(file: name, field: "(root)", reason: "expected a JSON object")
        }
        switch config["chat_template"] {
        case nil, .none?:
            return nil
        case .string(let text)?:
            return try parse(text, file: name)
        case .array(let entries)?:
            var named: [(name: String, template: String)] = []
            for entry in entries {
                guard case .object(let pair) = entry, case .string(let n)? = pair["name"],
                      case .string(let template)? = pair["template"] else {
                    throw TokenizerError.malformed(file: name, field: "chat_template",
                                                   reason: "expected a list of {\"name\", \"template\"} objects")
                }
                named.append((n, template))
            }
            guard let chosen = named.first(where: { $0.name == "default" }) else {
                throw TokenizerError.malformed(
                    file: name, field: "chat_template",
                    reason: "no template named 'default' among \(named.map(\.name))")
            }
            return try parse(chosen.template, file: name)
        case let other?:
            throw TokenizerError.malformed(file: name, field: "chat_template",
                                           reason: "expected a string or a list, got \(other.typeName)")
        }
    }

    private static func readText(_ url: URL) throws -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
    }

    /// Parses a template read from `file`, naming the file in any error.
    private static func parse(_ text: String, file: String) throws -> ChatTemplate {
        try ChatTemplate(source: text, file: file)
    }
}
