import Rewards
import Tasks
import XCTest

final class MathAnswerRewardTests: XCTestCase {
    let reward = MathAnswerReward()

    func score(_ completion: String, _ answer: JSONValue?) throws -> Double? {
        let columns: [String: JSONValue] = answer.map { ["answer": $0] } ?? [:]
        return try reward.score(completions: [completion], columns: [columns])[0]
    }

    func testTrickyCompletions() throws {
        let cases: [(String, JSONValue, Double)] = [
            ("The answer is 42.", "42", 1),
            ("\\boxed{\\frac{3}{4}}", "0.75", 1),
            ("<answer> 0.75 </answer>", "3/4", 1),
            ("<answer>-17</answer>", .int(-17), 1),
            ("x = -5", "-5", 1),
            ("It is 1,000.", "1000", 1),
            ("0.1+0.2 = 0.30000000000000004", .double(0.3), 0),
            ("<answer>0.3</answer>", .double(0.3), 1),
            ("<think>579?</think><answer>578</answer>", "579", 0),
            ("I don't know", "7", 0),
            ("", "7", 0),
            ("123+456=579", .int(579), 1),
            ("Natalia sold 72 clips", "She sold 48+24 = 72.\n#### 72", 1),
        ]
        for (completion, answer, expected) in cases {
            XCTAssertEqual(try score(completion, answer), expected, "'\(completion)' vs \(answer)")
        }
    }

    func testCannotJudgeWithoutANumericAnswer() throws {
        XCTAssertNil(try score("42", nil), "no answer column")
        XCTAssertNil(try score("42", "forty-two"), "the reference is not a number")
        XCTAssertNil(try score("16", "(3+5)*2"), "a countdown expression is not a numeric reference")
        let other = MathAnswerReward(answerColumn: "solution")
        XCTAssertEqual(try other.score(completions: ["\\boxed{9}"], columns: [["solution": "9"]]), [1])
    }

    func testBatchShapeIsChecked() {
        XCTAssertThrowsError(try reward.score(completions: ["1", "2"], columns: [[:]])) { error in
            XCTAssertEqual(error as? RewardError, .columnCountMismatch(reward: "math_answer", completions: 2, columns: 1))
        }
    }
}
