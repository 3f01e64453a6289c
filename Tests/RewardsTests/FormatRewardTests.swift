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

/// The language-consistency reward: the share of reasoning characters in the arithmetic alphabet.
final class ConsistencyRewardTests: XCTestCase {
    func testShareOfTheAlphabet() throws {
        let reward = ConsistencyReward()
        let scores = try reward.score(completions: ["<think>12+30=42</think> <answer>42</answer>", "<think>12 plus 30</think><answer>42</answer>",
                                                    "<think></think><answer></answer>", "Sure! It is 4."],
                                      columns: [[:], [:], [:], [:]])
        XCTAssertEqual(scores[0], 1)
        // "12plus3042": 6 of 10 characters are digits.
        XCTAssertEqual(scores[1] ?? .nan, 0.6, accuracy: 1e-12)
        XCTAssertEqual(scores[2], 0)
        // "Sure!Itis4.": the 4 and the period of 11.
        XCTAssertEqual(scores[3] ?? .nan, 2.0 / 11, accuracy: 1e-12)
    }
}
