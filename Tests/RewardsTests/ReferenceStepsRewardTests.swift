import Tasks
import XCTest
@testable import Rewards

final class ReferenceStepsRewardTests: XCTestCase {
    let row: [String: JSONValue] = [
        "answer": .string("1791"),
        "completion": .string("<think>2+9=11, 8+0+1=9, 8+9=17</think><answer>1791</answer>"),
    ]

    func testEachStepIsComparedWithTheReferenceStepAtTheSameIndex() throws {
        let r = ReferenceStepsReward()
        let right = "<think>2+9=11, 8+0+1=9, 8+9=17</think><answer>1791</answer>"
        // The tens column copies the units digit 2 instead of 8: a true equation, a wrong step.
        let miscopied = "<think>2+9=11, 2+0+1=3, 8+9=17</think><answer>1731</answer>"
        let steps = try r.stepScores(completions: [right, miscopied], columns: [row, row])
        XCTAssertEqual(steps[0].map(\.reward), [1, 1, 1, 1])
        XCTAssertEqual(steps[1].map(\.reward), [1, 0, 1, 0])
        XCTAssertEqual(steps[1].map(\.end), ["<think>2+9=11".count, "<think>2+9=11, 2+0+1=3".count,
                                             "<think>2+9=11, 2+0+1=3, 8+9=17".count, miscopied.count])
        XCTAssertEqual(try r.score(completions: [right, miscopied], columns: [row, row]), [1, 0.5])
        XCTAssertEqual(try BuiltinRewards.make("reference_steps").name, "reference_steps")
    }

    func testExtraMissingAndUnterminatedWorkings() throws {
        let r = ReferenceStepsReward()
        let extra = "<think>2+9=11, 8+0+1=9, 8+9=17, 1+0=1</think><answer>1791</answer>"
        let short = "<think>2+9=11</think><answer>11</answer>"
        let truncated = "<think>2+9=11, 8+0+1=9, 8+"
        let newlines = "<think>\n2+9=11\n 8+0+1=9 \n8+9=17\n</think><answer>1791</answer>"
        let steps = try r.stepScores(completions: [extra, short, truncated, newlines], columns: [row, row, row, row])
        XCTAssertEqual(steps[0].map(\.reward), [1, 1, 1, 0, 1], "a step past the reference's count scores 0")
        XCTAssertEqual(steps[1].map(\.reward), [1, 0])
        XCTAssertEqual(steps[2].map(\.reward), [1, 1, 0, 0], "without </think> the working runs to the end")
        XCTAssertEqual(steps[2][2].end, truncated.count)
        XCTAssertEqual(steps[3].map(\.reward), [1, 1, 1, 1])
        XCTAssertEqual(steps[3][1].end, "<think>\n2+9=11\n 8+0+1=9".count, "a step ends at its last non-blank character")
    }

    func testRowsWithoutAReferenceCannotBeJudged() throws {
        let r = ReferenceStepsReward()
        let text = "<think>2+9=11</think><answer>11</answer>"
        XCTAssertEqual(try r.score(completions: [text], columns: [["answer": .string("11")]]), [nil])
        XCTAssertThrowsError(try r.score(completions: [text, text], columns: [row]))
    }
}
