import Tasks
import XCTest

final class PromptFormatTests: XCTestCase {
    let problem = Problem(key: "123+456", barePrompt: "123+456=", question: "What is 123+456?", answer: "579",
                          working: "123+456=579")

    func testFormats() {
        XCTAssertEqual(PromptFormat.plain.prompt(for: problem), .text("123+456="))
        XCTAssertEqual(PromptFormat.plain.completion(for: problem), "579")
        XCTAssertEqual(PromptFormat.r1.prompt(for: problem),
                       .text("What is 123+456? Think inside <think></think>, then answer inside <answer></answer>."))
        XCTAssertEqual(PromptFormat.r1.completion(for: problem), "<think>123+456=579</think><answer>579</answer>")
        XCTAssertEqual(PromptFormat.chat.prompt(for: problem), .messages([ChatMessage(role: "user", content: "What is 123+456?")]))
        XCTAssertEqual(PromptFormat.chat.completion(for: problem), [["role": "assistant", "content": "579"]])
        guard case let .messages(messages) = PromptFormat.chatR1.prompt(for: problem) else { return XCTFail() }
        XCTAssertEqual(messages.map(\.role), ["system", "user"])
        XCTAssertEqual(messages[0].content, PromptFormat.instruction)
    }

    func testNames() {
        XCTAssertEqual(PromptFormat.names, ["plain", "r1", "chat", "chat-r1"])
        for format in PromptFormat.all { XCTAssertEqual(PromptFormat(name: format.name), format) }
        XCTAssertNil(PromptFormat(name: "R1"))
    }

    func testRowColumns() {
        let row = PromptFormat.chatR1.row(for: problem)
        XCTAssertEqual(row.columns["answer"], "579")
        XCTAssertEqual(row.completionText, "<think>123+456=579</think><answer>579</answer>")
        XCTAssertNil(row.columns["prompt"], "prompt is not a column")
    }
}
