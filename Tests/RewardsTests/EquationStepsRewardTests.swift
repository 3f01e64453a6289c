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
}
