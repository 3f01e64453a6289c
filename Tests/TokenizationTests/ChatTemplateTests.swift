import Foundation
import Tokenization
import XCTest

/// Chat templates rendered by our Jinja subset must equal transformers' `apply_chat_template(..., tokenize=False)`
/// on the fixtures written by Scripts/make_chat_template_fixtures.py (real Qwen2.5, SmolLM2 and Llama 3 / 3.1 / 3.2
/// templates, plus small templates exercising each supported feature); unsupported or broken templates must fail
/// with a `TokenizerError.template` naming the construct and line.
final class ChatTemplateTests: XCTestCase {
    private static let utc = TimeZone(identifier: "UTC") ?? .current

    // MARK: - Fixtures from transformers

    func testQwen2_5InstructMatchesTransformers() throws { try checkFixture("qwen2_5_instruct") }
    func testSmolLM2InstructMatchesTransformers() throws { try checkFixture("smollm2_instruct") }
    func testLlama3InstructMatchesTransformers() throws { try checkFixture("llama3_instruct") }
    func testLlama3_1InstructMatchesTransformers() throws { try checkFixture("llama3_1_instruct") }
    func testLlama3_2InstructMatchesTransformers() throws { try checkFixture("llama3_2_instruct") }
    func testJinjaFeaturesMatchTransformers() throws { try checkFixture("jinja_features") }

    /// Renders every case of `chat_templates/<name>.json` and compares with transformers' output or error.
    private func checkFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try ChatTemplateFixture(name)
        XCTAssertFalse(fixture.cases.isEmpty, "\(name): no cases", file: file, line: line)
        for testCase in fixture.cases {
            let what = "\(name)/\(testCase.name)"
            guard let source = testCase.template ?? fixture.template else {
                XCTFail("\(what): fixture has no template", file: file, line: line)
                continue
            }
            let template: ChatTemplate
            do {
                template = try ChatTemplate(source: source)
            } catch {
                XCTFail("\(what): template does not parse: \(error)", file: file, line: line)
                continue
            }
            let extra = fixture.specialTokens.merging(testCase.kwargs) { _, new in new }
            let render = {
                try template.render(messages: testCase.messages, addGenerationPrompt: testCase.addGenerationPrompt,
                                    extra: extra, now: fixture.now, timeZone: Self.utc)
            }
            if let expected = testCase.expected {
                do {
                    let actual = try render()
                    if actual != expected {
                        XCTFail("\(what): \(firstDifference(actual, expected))", file: file, line: line)
                    }
                } catch {
                    XCTFail("\(what): render failed: \(error)", file: file, line: line)
                }
            } else {
                XCTAssertThrowsError(try render(), "\(what): transformers raised \(testCase.error ?? "")",
                                     file: file, line: line) { error in
                    guard case TokenizerError.template(let message, let errorLine) = error else {
                        return XCTFail("\(what): expected TokenizerError.template, got \(error)", file: file, line: line)
                    }
                    XCTAssertNotNil(errorLine, "\(what): error has no line: \(message)", file: file, line: line)
                    if testCase.errorType == "TemplateError" {  // raise_exception: the template's own message
                        XCTAssertEqual(message, testCase.error, "\(what): raise_exception message", file: file, line: line)
                    }
                }
            }
        }
    }

    /// Where two renderings first differ, with some context, escaped so whitespace differences show.
    private func firstDifference(_ actual: String, _ expected: String) -> String {
        let a = Array(actual.unicodeScalars), e = Array(expected.unicodeScalars)
        let index = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        func around(_ s: [Unicode.Scalar]) -> String {
            let window = s[max(0, index - 30)..<min(s.count, index + 30)]
            return String(String.UnicodeScalarView(window)).debugDescription
        }
        return "output differs at scalar \(index) (lengths \(a.count) vs expected \(e.count)): "
            + "got \(around(a)), expected \(around(e))"
    }

    // MARK: - Unsupported and broken templates

    /// `body` must throw a template error on `line` whose message contains `text`.
    private func assertTemplateError(_ body: @autoclosure () throws -> some Any, line expectedLine: Int,
                                     mentioning text: String, _ what: String,
                                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), "\(what) did not fail", file: file, line: line) { error in
            guard case TokenizerError.template(let message, let errorLine) = error else {
                return XCTFail("\(what): expected TokenizerError.template, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(errorLine, expectedLine, "\(what): line of '\(message)'", file: file, line: line)
            XCTAssertTrue(message.contains(text), "\(what): '\(message)' should mention '\(text)'", file: file, line: line)
        }
    }

    private func assertParseError(_ source: String, line expectedLine: Int, mentioning text: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        assertTemplateError(try ChatTemplate(source: source), line: expectedLine, mentioning: text,
                            "parsing \(source.prefix(80).debugDescription)", file: file, line: line)
    }

    func testUnsupportedConstructsAreNamedWithTheirLine() {
        assertParseError("a\n{% call greet() %}hi{% endcall %}", line: 2, mentioning: "call")
        assertParseError("{% filter upper %}hi{% endfilter %}", line: 1, mentioning: "filter")
        assertParseError("{% include 'other.jinja' %}", line: 1, mentioning: "include")
        assertParseError("\n\n{{ messages | shuffle }}", line: 3, mentioning: "filter 'shuffle'")
        assertParseError("{% if x is prime %}{% endif %}", line: 1, mentioning: "test 'prime'")
        assertParseError("{% for x in xs recursive %}{% endfor %}", line: 1, mentioning: "recursive")
        assertParseError("{{ f(**a, *b) }}", line: 1, mentioning: "*items")
        assertParseError("{% macro m(a=1, b) %}{% endmacro %}", line: 1, mentioning: "without a default")
        assertParseError("{% frobnicate %}", line: 1, mentioning: "frobnicate")
    }

    func testMalformedTemplatesFailWithTheirLine() {
        assertParseError("ok\n{{ messages[0]", line: 2, mentioning: "never closed")
        assertParseError("{% if true %}\nyes", line: 1, mentioning: "'if' opened on line 1")
        assertParseError("{% for m in messages %}\n{% endif %}", line: 2, mentioning: "endif")
        assertParseError("text {% endfor %}", line: 1, mentioning: "endfor")
        assertParseError("\n{# unterminated comment", line: 2, mentioning: "comment")
        assertParseError("{{ 'unterminated }}", line: 1, mentioning: "unterminated string")
        assertParseError("{% break %}", line: 1, mentioning: "outside of a for loop")
        assertParseError("{{ (1, 2 }}", line: 1, mentioning: "'}'")
        assertParseError("{{ 1 + }}", line: 1, mentioning: "unexpected")
        assertParseError("{{ a ? b }}", line: 1, mentioning: "unexpected character")
        assertParseError("{{ '\\N{BULLET}' }}", line: 1, mentioning: "\\N{")
        assertParseError("{% raw %}never ended", line: 1, mentioning: "endraw")
    }

    func testRuntimeErrorsNameTheirLine() throws {
        let cases: [(String, Int, String)] = [
            ("a\n\n{{ raise_exception('stop here') }}", 3, "stop here"),
            ("{{ missing.attr }}", 1, "'missing' is undefined"),
            ("\n{{ 'x' % 3 }}", 2, "'%' string formatting"),
            ("{% for k, v in [1] %}{% endfor %}", 1, "not iterable"),
            ("{% set x = 1 %}{% set x.y = 2 %}", 1, "not a namespace"),
            ("{{ undefined_function() }}", 1, "'undefined_function' is undefined"),
            ("{{ strftime_now('%Q') }}", 1, "%Q"),
            ("{{ 1 // 0 }}", 1, "zero"),
            ("{{ messages | tojson }}{{ undefined_var | tojson }}", 1, "not JSON serializable"),
            ("{{ 'a'.split('') }}", 1, "empty separator"),
            ("{% macro m(a) %}{{ a }}{% endmacro %}\n{{ m(1, 2) }}", 2, "not more than 1 argument"),
            ("{% macro m(a) %}\n{{ a.b }}{% endmacro %}{{ m(none) }}{{ m(x) }}", 2, "'x' is undefined"),
        ]
        for (source, expectedLine, text) in cases {
            let template = try ChatTemplate(source: source)
            assertTemplateError(try template.render(messages: [ChatTemplate.Message](), addGenerationPrompt: false),
                                line: expectedLine, mentioning: text, "rendering \(source.debugDescription)")
        }
    }

    /// Every prefix of a real template either parses and renders or fails with a template error; never a trap.
    func testTruncatedTemplatesNeverCrash() throws {
        let source = try XCTUnwrap(ChatTemplateFixture("llama3_1_instruct").template)
        let scalars = Array(source.unicodeScalars)
        let messages: [ChatTemplate.Message] = [.init(role: "user", content: "Hi")]
        for end in stride(from: 0, through: scalars.count, by: 7) {
            let prefix = String(String.UnicodeScalarView(scalars[..<end]))
            do {
                _ = try ChatTemplate(source: prefix).render(messages: messages, addGenerationPrompt: true)
            } catch let error as TokenizerError {
                guard case .template = error else { return XCTFail("prefix \(end): unexpected \(error)") }
            }
        }
    }

    /// Templates that ask for absurd nesting, sizes or integers fail with an error instead of trapping.
    func testHostileTemplatesFailCleanly() throws {
        assertParseError("{{ " + String(repeating: "(", count: 100) + "1" + String(repeating: " + 1)", count: 100) + " }}",
                         line: 1, mentioning: "nested")
        assertParseError("{{ " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + " }}",
                         line: 1, mentioning: "nested")
        assertParseError("\n" + String(repeating: "{% if true %}", count: 100), line: 2, mentioning: "nested")
        assertParseError("{{ " + String(repeating: "not ", count: 100) + "true }}", line: 1, mentioning: "nested")
        // A long chain of one operator is flat, not deep: it renders.
        let chain = try ChatTemplate(source: "{{ " + Array(repeating: "1", count: 1000).joined(separator: " + ") + " }}")
        XCTAssertEqual(try chain.render(messages: [JinjaValue](), addGenerationPrompt: false), "1000")

        let failures: [(String, String)] = [
            ("{{ 'x' * 100000000000 }}", "limit"),
            ("{{ [1, 2] * 9223372036854775807 }}", "limit"),
            ("{{ -(-9223372036854775807 - 1) }}", "overflow"),
            ("{{ 9223372036854775807 + 1 }}", "overflow"),
            ("{{ 2 ** 63 }}", "overflow"),
            ("{{ '1' | int(base=99) }}", "base"),
            ("{{ range(-9223372036854775807 - 1, 0) }}", "too large"),
            ("{{ 'a' | indent(100000000000) }}", "limit"),
            ("{{ 99999999999999999999 }}", "out of range"),
        ]
        for (source, text) in failures {
            let parseAndRender = { try ChatTemplate(source: source).render(messages: [JinjaValue](), addGenerationPrompt: false) }
            XCTAssertThrowsError(try parseAndRender(), source) { error in
                XCTAssertTrue("\(error)".contains(text), "\(source): '\(error)' should mention '\(text)'")
            }
        }
        let template = try ChatTemplate(source: "{{ 2 ** 62 }} {{ 1e300 | int }} {{ (-9223372036854775807 - 1) | abs }}")
        XCTAssertEqual(try template.render(messages: [JinjaValue](), addGenerationPrompt: false),
                       "4611686018427387904 0 9223372036854775807")
    }

    /// Renders on a thread with a 512 KB stack, the size of Swift concurrency's threads on macOS.
    private func renderOnSmallStack(_ source: String) throws -> Result<String, any Error> {
        let template = try ChatTemplate(source: source)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<String, any Error> = .success("")
        let thread = Thread {
            result = Result { try template.render(messages: [JinjaValue](), addGenerationPrompt: false) }
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        return result
    }

    /// The deepest nesting the parser allows renders on a small stack even in a debug build, and recursion
    /// through macros stops with an error before the stack runs out.
    func testDeepTemplatesAndRecursiveMacrosFitASmallStack() throws {
        let expression = String(repeating: "(", count: 63) + "1" + String(repeating: " + 1)", count: 63)
        let deepest = String(repeating: "{% for x in [1] %}{% if true %}", count: 31) + "{{ " + expression + " }}"
            + String(repeating: "{% endif %}{% endfor %}", count: 31)
        XCTAssertEqual(try renderOnSmallStack(deepest).get(), "64")

        let recursive = [
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{% macro f(n) %}{% for x in [1] %}{% if true %}{{ ((((f(n + 1))))) | trim }}{% endif %}{% endfor %}"
                + "{% endmacro %}{{ f(0) }}",
            "{% macro f(n, a=f(n + 1)) %}{% endmacro %}{{ f(0) }}",
        ]
        for source in recursive {
            XCTAssertThrowsError(try renderOnSmallStack(source).get(), source) { error in
                XCTAssertTrue("\(error)".contains("recursion"), "\(source): \(error)")
            }
        }
        // Legitimate recursion (a JSON schema walked by a macro) is well within the limit.
        let walk = "{% macro walk(v) %}{% if v is mapping %}{% for k, x in v | items %}{{ k }}({{ walk(x) }}){% endfor %}"
            + "{% else %}{{ v }}{% endif %}{% endmacro %}{{ walk(tree) }}"
        let tree = try JinjaValue(json: #"{"a": {"b": {"c": {"d": {"e": 1}}}}, "f": 2}"#)
        XCTAssertEqual(try ChatTemplate(source: walk).render(messages: [JinjaValue](), addGenerationPrompt: false,
                                                             extra: ["tree": tree]), "a(b(c(d(e(1)))))f(2)")
    }

    // MARK: - API

    func testRenderOverloadsAgree() throws {
        let template = try ChatTemplate(source: "{% for m in messages %}{{ m | tojson }}{% endfor %}{{ bos_token }}")
        let fromMessages = try template.render(messages: [ChatTemplate.Message(role: "user", content: "Hi")],
                                               addGenerationPrompt: false, extra: ["bos_token": "<s>"])
        let fromDictionaries = try template.render(messages: [["content": "Hi", "role": "user"]],
                                                   addGenerationPrompt: false, extra: ["bos_token": "<s>"])
        XCTAssertEqual(fromMessages, #"{"role": "user", "content": "Hi"}<s>"#)
        XCTAssertEqual(fromDictionaries, fromMessages)
    }

    func testStrftimeNowDefaultsToToday() throws {
        let template = try ChatTemplate(source: "{{ strftime_now('%Y-%m-%d') }}")
        let rendered = try template.render(messages: [ChatTemplate.Message](), addGenerationPrompt: false,
                                           timeZone: Self.utc)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = Self.utc
        formatter.dateFormat = "yyyy-MM-dd"
        let today = formatter.string(from: Date())
        let yesterday = formatter.string(from: Date().addingTimeInterval(-60))  // in case the day just turned
        XCTAssertTrue(rendered == today || rendered == yesterday, "\(rendered) is not today (\(today))")
    }

    func testLoadPrefersChatTemplateJinjaThenTokenizerConfig() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chat-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("tokenizer_config.json")
        let messages = [ChatTemplate.Message(role: "user", content: "Hi")]
        func rendered() throws -> String? {
            try ChatTemplate.load(from: directory)?.render(messages: messages, addGenerationPrompt: false)
        }

        XCTAssertNil(try ChatTemplate.load(from: directory), "no files: no template")
        try #"{"bos_token": "<s>"}"#.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertNil(try ChatTemplate.load(from: directory), "config without chat_template")

        try #"{"chat_template": "string:{{ messages[0].content }}"}"#.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try rendered(), "string:Hi")

        let named = #"{"chat_template": [{"name": "tool_use", "template": "tools"}, "#
            + #"{"name": "default", "template": "default:{{ messages | length }}"}]}"#
        try named.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try rendered(), "default:1")

        try #"{"chat_template": [{"name": "tool_use", "template": "tools"}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ChatTemplate.load(from: directory)) { error in
            guard case TokenizerError.malformed(let file, let field, let reason) = error else {
                return XCTFail("expected malformed, got \(error)")
            }
            XCTAssertEqual(file, "tokenizer_config.json")
            XCTAssertEqual(field, "chat_template")
            XCTAssertTrue(reason.contains("default") && reason.contains("tool_use"), reason)
        }

        try "jinja file:{{ messages[0].role }}\n".write(to: directory.appendingPathComponent("chat_template.jinja"),
                                                     atomically: true, encoding: .utf8)
        XCTAssertEqual(try rendered(), "jinja file:user", "chat_template.jinja takes priority")

        try "{{ x | nope }}".write(to: directory.appendingPathComponent("chat_template.jinja"), atomically: true,
                                   encoding: .utf8)
        XCTAssertThrowsError(try ChatTemplate.load(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("chat_template.jinja") && "\(error)".contains("nope"), "\(error)")
        }
    }

    func testJSONReadingKeepsKeyOrderAndNumberTypes() throws {
        let value = try JinjaValue(json: #"{"z": 1, "a": [2.0, 3, "\u00e9\ud83d\ude00", null, true]}"#)
        let template = try ChatTemplate(source: "{{ value | tojson }}|{{ value.a[0] }}|{{ value.a[1] }}")
        let rendered = try template.render(messages: [JinjaValue](), addGenerationPrompt: false, extra: ["value": value])
        XCTAssertEqual(rendered, #"{"z": 1, "a": [2.0, 3, "é😀", null, true]}|2.0|3"#)
        XCTAssertThrowsError(try JinjaValue(json: #"{"a": }"#))
    }
}

/// One `chat_templates/<name>.json` fixture, read with `JinjaValue(json:)` so object key order survives.
private struct ChatTemplateFixture {
    struct Case {
        let name: String
        let template: String?
        let messages: [JinjaValue]
        let addGenerationPrompt: Bool
        let kwargs: [String: JinjaValue]
        let expected: String?
        let error: String?
        let errorType: String?
    }

    let template: String?
    let specialTokens: [String: JinjaValue]
    let now: Date
    let cases: [Case]

    init(_ name: String, testFile: StaticString = #filePath) throws {
        let url = URL(fileURLWithPath: "\(testFile)").deletingLastPathComponent()
            .appendingPathComponent("Fixtures/chat_templates/\(name).json")
        guard case .object(let root) = try JinjaValue(json: try String(contentsOf: url, encoding: .utf8), source: url.path)
        else { throw ChatFixtureError("\(name): root is not an object") }
        template = root["template"].flatMap(Self.string)
        specialTokens = Self.dictionary(root["special_tokens"])
        guard let nowText = root["now"].flatMap(Self.string), let now = Self.date(nowText) else {
            throw ChatFixtureError("\(name): missing or malformed 'now'")
        }
        self.now = now
        guard case .array(let rawCases)? = root["cases"] else { throw ChatFixtureError("\(name): no 'cases' list") }
        cases = try rawCases.map { raw in
            guard case .object(let c) = raw, let caseName = c["name"].flatMap(Self.string),
                  case .array(let messages)? = c["messages"], case .bool(let prompt)? = c["add_generation_prompt"]
            else { throw ChatFixtureError("\(name): a case lacks name, messages or add_generation_prompt") }
            return Case(name: caseName, template: c["template"].flatMap(Self.string), messages: messages,
                        addGenerationPrompt: prompt, kwargs: Self.dictionary(c["kwargs"]),
                        expected: c["expected"].flatMap(Self.string), error: c["error"].flatMap(Self.string),
                        errorType: c["error_type"].flatMap(Self.string))
        }
    }

    private static func string(_ value: JinjaValue) -> String? {
        if case .string(let s) = value { return s }
        return nil
    }

    private static func dictionary(_ value: JinjaValue?) -> [String: JinjaValue] {
        guard case .object(let object)? = value else { return [:] }
        return Dictionary(uniqueKeysWithValues: object.pairs.map { ($0.key, $0.value) })
    }

    /// "YYYY-MM-DDTHH:MM:SS" read as UTC (the Python script formats a naive datetime, the test renders in UTC).
    private static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.date(from: text)
    }
}

private struct ChatFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
