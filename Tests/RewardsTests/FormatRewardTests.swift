import Rewards
import Tasks
import XCTest

final class FormatRewardTests: XCTestCase {
    func testStrictTemplate() throws {
        let cases: [(String, Double)] = [
            ("<think>123+456=579</think><answer>579</answer>", 1),
            ("  <think>\nstep\n</think>\n\n<answer> 579 </answer>\n", 1),
            ("<think></think><answer></answer>", 1),
            ("<think>a</think><answer>579</answer> extra", 0),
            ("preface <think>a</think><answer>579</answer>", 0),
            ("<think>a</think> so <answer>579</answer>", 0),
            ("<answer>579</answer><think>a</think>", 0),
            ("<think>a</think><answer>1</answer><answer>2</answer>", 0),
            ("<think>a<think>b</think><answer>1</answer>", 0),
            ("<think>a</think><answer>579", 0),
            ("579", 0),
        ]
        let reward = FormatReward()
        let scores = try reward.score(completions: cases.map(\.0), columns: cases.map { _ in [:] })
        for ((text, expected), score) in zip(cases, scores) {
            XCTAssertEqual(score, expected, "'\(text)'")
        }
    }

    func testSoftVariantGivesPartialCredit() throws {
        let reward = FormatReward(soft: true)
        XCTAssertEqual(reward.name, "soft_format")
        let texts = ["<think>a</think><answer>5</answer>", "<think>a</think> 5", "<answer>5</answer> trailing",
                     "<think>a</think><answer>5</answer> trailing", "<answer>1</answer><answer>2</answer>", "5"]
        let scores = try reward.score(completions: texts, columns: texts.map { _ in [:] })
        let expected = [1, 0.4, 0.4, 0.8, 0, 0]
        for (text, (score, value)) in zip(texts, zip(scores, expected)) {
            XCTAssertEqual(try XCTUnwrap(score), value, accuracy: 1e-12, "'\(text)'")
        }
    }
}
