import Tasks
import XCTest
@testable import Rewards

final class EquationStepsRewardTests: XCTestCase {
    func testEveryEquationIsAScoredStep() throws {
        let r = EquationStepsReward()
        let text = "<think>123+456=579, then 2x3 = 7</think><answer>579</answer>"
        let steps = try r.stepScores(completions: [text, "no equations"], columns: [[:], [:]])
        XCTAssertEqual(steps[0].map(\.reward), [1, 0])
        XCTAssertEqual(steps[0][0].end, "<think>123+456=579".count)
        XCTAssertEqual(steps[0][1].end, "<think>123+456=579, then 2x3 = 7".count)
        XCTAssertTrue(steps[1].isEmpty)
        XCTAssertEqual(try r.score(completions: [text, "no equations"], columns: [[:], [:]]), [0.5, nil])
        XCTAssertEqual(try BuiltinRewards.make("equation_steps").name, "equation_steps")
    }

    func testTheFinalAnswerIsTheLastStepWhenTheRowHasAnAnswer() throws {
        let r = EquationStepsReward()
        let right = "<think>7+2=9, 87+32=119, 687+932=1619</think><answer>1619</answer>"
        let miscopied = "<think>7+2=9, 87+32=119, 687+932=1619</think><answer>1609</answer>"
        let row: [String: JSONValue] = ["answer": .string("1619")]
        let steps = try r.stepScores(completions: [right, miscopied, "no equations"], columns: [row, row, row])
        XCTAssertEqual(steps[0].map(\.reward), [1, 1, 1, 1])
        XCTAssertEqual(steps[1].map(\.reward), [1, 1, 1, 0])
        XCTAssertEqual(steps[1].last?.end, miscopied.count)
        XCTAssertEqual(steps[2].map(\.reward), [0], "no number at all is a wrong answer")
        XCTAssertEqual(try r.score(completions: [right, miscopied], columns: [row, row]), [1, 0.75])
    }
}
