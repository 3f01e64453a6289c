import Rewards
import Tasks
import XCTest

final class CountdownRewardTests: XCTestCase {
    let row: [String: JSONValue] = ["numbers": [3, 5, 2, 7], "target": 16]

    func testScores() throws {
        let reward = CountdownReward()
        let completions = [
            "<think>3+5=8, 8*2=16</think><answer>(3+5)*2</answer>",
            "(3+5)*2",
            "<answer>(3+5)*2 = 16</answer>",
            "<answer>3*5+1</answer>",
            "<answer>(3+3)*2+4</answer>",
            "<answer>16/(7-7)</answer>",
            "<answer>7+7+2</answer>",
        ]
        XCTAssertEqual(try reward.score(completions: completions, columns: completions.map { _ in row }),
                       [1, 1, 0, 0, 0, 0, 0])
    }

    func testExactlyOnceAndFormatScore() throws {
        let strict = CountdownReward(useEachNumberExactlyOnce: true, formatScore: 0.1)
        let completions = ["<answer>(3+5)*2</answer>", "<answer>(3+5)*2+7-7</answer>", "(3+5)*2"]
        let rows = [row, ["numbers": [3, 5, 2, 7, 7], "target": 16], row]
        XCTAssertEqual(try strict.score(completions: completions, columns: rows), [0.1, 1, 0],
                       "unused numbers fail exactly-once; the format credit needs answer tags")
    }

    func testCannotJudgeWithoutColumns() throws {
        let reward = CountdownReward()
        XCTAssertEqual(try reward.score(completions: ["1+2", "1+2"], columns: [["answer": "3"], ["numbers": [1, 2], "target": "3"]]),
                       [nil, 1], "a numeric string target is read as an integer")
    }

    func testTargetCompletionsOfGeneratedDataScoreOne() throws {
        let task = try CountdownTask()
        let data = try makeDataset(task: task, train: 0, test: 100, seed: 11, format: .r1)
        let scores = try CountdownReward().score(completions: data.test.map { $0.completionText! },
                                                 columns: data.test.map(\.columns))
        XCTAssertEqual(scores, Array(repeating: 1, count: 100))
    }
}
