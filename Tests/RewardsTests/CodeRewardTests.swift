import Foundation
import Rewards
import Sandbox
import Tasks
import XCTest

final class CodeRewardTests: XCTestCase {
    func sandbox() throws -> Sandbox {
        do { return try SharedSandbox.get() } catch { throw XCTSkip("no sandbox isolation here: \(error)") }
    }

    func testTheLastFencedBlockIsTheCode() {
        XCTAssertEqual(CodeTests.lastCodeBlock(in: "a\n```python\nx = 1\n```\nthen\n```\ny = 2\n```"), "y = 2\n")
        XCTAssertEqual(CodeTests.lastCodeBlock(in: "<answer>```python\ndef f(x):\n    return x\n```</answer>"), "def f(x):\n    return x\n")
        XCTAssertNil(CodeTests.lastCodeBlock(in: "no code here"))
        XCTAssertEqual(CodeTests.normalizedLines("1 \n2\t\n\n\n"), ["1", "2"])
    }

    /// code_runs, code_tests and code_tests_binary on asserts, stdin/stdout cases and a HumanEval row.
    func testRewardsScoreEachTestForm() throws {
        let s = try sandbox()
        let good = "```python\ndef f(x):\n    return x * 2\n```", half = "```python\ndef f(x):\n    return x + x if x < 3 else 0\n```"
        let broken = "```python\ndef f(x):\n    return x *\n```"
        let asserts: [String: JSONValue] = ["tests": ["assert f(1) == 2", "assert f(2) == 4", "assert f(5) == 10", "assert f(7) == 14"]]
        let io: [String: JSONValue] = ["tests": [["input": "3\n", "output": "6"], ["input": "10\n", "output": "20  \n"]]]
        let ioGood = "```python\nprint(int(input()) * 2)\n```", ioBad = "```python\nprint(int(input()) * 3)\n```"
        let humanEval: [String: JSONValue] = ["prompt": "def double(x):\n    \"\"\"Twice x.\"\"\"\n", "entry_point": "double",
                                              "test": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(0) == 0\n"]
        let completions = [good, half, broken, "no code", ioGood, ioBad, "    return 2 * x\n", "```python\ndef double(x):\n    return x\n```"]
        let columns = [asserts, asserts, asserts, asserts, io, io, humanEval, humanEval]
        let runs = try CodeReward(.runs, sandbox: s).score(completions: completions, columns: columns)
        XCTAssertEqual(runs, [1, 1, 0, 0, 0, 0, 1, 1], "io programs read stdin, which is empty for code_runs")
        let tests = try CodeReward(.tests, sandbox: s).score(completions: completions, columns: columns)
        XCTAssertEqual(tests, [1, 0.5, 0, 0, 1, 0, 1, 0])
        let binary = try CodeReward(.testsBinary, sandbox: s).score(completions: completions, columns: columns)
        XCTAssertEqual(binary, [1, 0, 0, 0, 1, 0, 1, 0])
        XCTAssertEqual(try CodeReward(.tests, sandbox: s).score(completions: [good], columns: [[:]]), [nil], "no tests: cannot judge")
    }

    /// Equal completions of one row make one program that runs once (a group's repeats cost nothing):
    /// a coin flipped from os.urandom comes out the same for all twelve copies (separate runs would
    /// agree with probability 2^-11).
    func testEqualCompletionsOfARowRunOnce() throws {
        let s = try sandbox()
        let coin = "```python\nimport os\nR = os.urandom(1)[0] % 2\n```"
        let row: [String: JSONValue] = ["tests": ["assert R == 0"]]
        let scores = try CodeReward(.tests, sandbox: s).score(completions: Array(repeating: coin, count: 12), columns: Array(repeating: row, count: 12))
        XCTAssertEqual(Set(scores).count, 1, "\(scores)")
    }

    /// Every generated code problem's reference solution passes its own hidden tests when Python runs
    /// them: the expected values computed in Swift follow Python's semantics.
    func testCodeTaskSolutionsPassTheirTestsInPython() throws {
        let s = try sandbox()
        let splits = try makeDataset(task: try CodeTask(), train: 120, test: 30, seed: 7, format: .r1)
        let rows = splits.train + splits.test
        let scores = try CodeReward(.tests, sandbox: s).score(completions: rows.map { $0.completionText ?? "" }, columns: rows.map(\.columns))
        XCTAssertEqual(scores.filter { $0 == 1 }.count, rows.count, "failing: \(zip(rows, scores).filter { $0.1 != 1 }.prefix(3).map { $0.0.columns })")
        // And a wrong solution fails them.
        let wrong = rows.map { ($0.completionText ?? "").replacingOccurrences(of: "return ", with: "return 0 and ") }
        let wrongScores = try CodeReward(.testsBinary, sandbox: s).score(completions: wrong, columns: rows.map(\.columns))
        XCTAssertLessThan(wrongScores.filter { $0 == 1 }.count, rows.count / 4)
    }
}
