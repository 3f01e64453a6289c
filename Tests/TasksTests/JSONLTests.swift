import Foundation
import Tasks
import XCTest

final class JSONLTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jsonl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func file(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    func testRoundTripKeepsEveryColumnAsJSON() throws {
        let rows = [
            Row(prompt: .text("123+456="), columns: ["answer": "579", "completion": "579"]),
            Row(prompt: .messages([ChatMessage(role: "user", content: "Make 16 \"now\"\n")]),
                columns: ["numbers": [3, 5, 2], "target": 16, "score": 0.5, "ok": true, "meta": ["a": nil]]),
        ]
        let url = directory.appendingPathComponent("sub/rows.jsonl")
        try JSONL.write(rows, to: url)
        let read = try JSONL.read(url)
        XCTAssertEqual(read.rows, rows)
        XCTAssertEqual(read.skipped, 0)
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix(#"{"answer":"579","completion":"579","prompt":"123+456="}"#), text)
        XCTAssertTrue(text.contains(#""numbers":[3,5,2]"#), "integers stay integers: \(text)")
    }

    func testMalformedLineNamesFileAndLine() throws {
        let url = try file("bad.jsonl", """
            {"prompt": "1+1=", "answer": "2"}

            {"prompt": "2+2=", "answer": 4
            {"answer": "5"}
            {"prompt": 7}
            [1, 2]
            {"prompt": [{"role": "user"}]}
            {"prompt": [{"role": "user", "content": "hi"}]}\r

            """)
        XCTAssertThrowsError(try JSONL.read(url)) { error in
            guard case let .malformedLine(file, line, reason) = error as? TaskError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(line, 3)
            XCTAssertTrue(reason.contains("not valid JSON"), reason)
            XCTAssertTrue("\(error)".hasPrefix("\(url.path):3: malformed JSONL row"), "\(error)")
        }
        let skipping = try JSONL.read(url, skipBadLines: true)
        XCTAssertEqual(skipping.skippedLines, [3, 4, 5, 6, 7])
        XCTAssertEqual(skipping.rows.count, 2)
        XCTAssertEqual(skipping.rows[1].prompt, .messages([ChatMessage(role: "user", content: "hi")]))
    }

    func testRowErrorsSayWhatIsWrong() throws {
        for (line, expected) in [(#"{"answer": "5"}"#, "no 'prompt' column (columns: answer)"),
                                 (#"{"prompt": 7}"#, "'prompt' must be a string or a list"),
                                 ("[1]", "expected a JSON object")] {
            let url = try file("one.jsonl", line + "\n")
            XCTAssertThrowsError(try JSONL.read(url)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testMissingFileIsAnIOError() {
        let url = directory.appendingPathComponent("absent.jsonl")
        XCTAssertThrowsError(try JSONL.read(url)) { error in
            guard case .io(url.path, _) = error as? TaskError else { return XCTFail("\(error)") }
        }
    }

    func testWriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        let url = directory.appendingPathComponent("data.jsonl")
        try JSONL.write([Row(prompt: .text("old"))], to: url)
        try JSONL.write([Row(prompt: .text("new")), Row(prompt: .text("newer"))], to: url)
        XCTAssertEqual(try JSONL.read(url).rows.map(\.prompt), [.text("new"), .text("newer")])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["data.jsonl"])
        // A row that cannot be encoded (a non-finite number) fails before anything is written.
        XCTAssertThrowsError(try JSONL.write([Row(prompt: .text("x"), columns: ["bad": .double(.infinity)])], to: url))
        XCTAssertEqual(try JSONL.read(url).rows.count, 2, "the previous file is untouched")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["data.jsonl"])
    }
}
