import Foundation
import Rewards
import Tasks
import XCTest

/// A reward whose behaviour a test picks.
struct StubReward: Reward {
    enum Behaviour: Sendable {
        case scores([Double?])
        case sleep(Double)
        case fail
    }

    struct Failure: Error {}

    var name: String
    var weight = 1.0
    var behaviour: Behaviour

    func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        switch behaviour {
        case let .scores(scores):
            return scores
        case let .sleep(seconds):
            Thread.sleep(forTimeInterval: seconds)
            return completions.map { _ in 1 }
        case .fail:
            throw Failure()
        }
    }
}

final class RewardRunnerTests: XCTestCase {
    let completions = ["<think>a</think><answer>3</answer>", "4"]
    let columns: [[String: JSONValue]] = [["answer": "3"], [:]]

    func testScoresEveryRewardInOrder() throws {
        let runner = RewardRunner(rewards: [MathAnswerReward(), FormatReward(weight: 0.5)], timeout: 5)
        let batch = try runner.score(completions: completions, columns: columns)
        XCTAssertEqual(batch.names, ["math_answer", "format"])
        XCTAssertEqual(batch.weights, [1, 0.5])
        XCTAssertEqual(batch.scores, [[1, nil], [1, 0]])
        XCTAssertEqual(batch.perCompletion, [[1, 1], [nil, 0]])
        XCTAssertEqual(batch.outcomes, [.scored, .scored])
        XCTAssertEqual(batch.metrics["rewards/math_answer/mean"], 1)
        XCTAssertEqual(batch.metrics["rewards/math_answer/std"]?.isNaN, true, "one judged completion has no std (NaN, as TRL logs it)")
        XCTAssertEqual(batch.metrics["rewards/format/mean"], 0.5)
        XCTAssertEqual(try XCTUnwrap(batch.metrics["rewards/format/std"]), 0.5.squareRoot(), accuracy: 1e-12,
                       "Bessel-corrected, as TRL's nanstd")
        XCTAssertEqual(runner.statistics.map(\.calls), [1, 1])
        XCTAssertEqual(runner.statistics.map(\.unjudged), [1, 0])
    }

    func testARewardThatSleepsPastTheTimeoutYieldsNilAndIsCounted() throws {
        let runner = RewardRunner(rewards: [StubReward(name: "slow", behaviour: .sleep(3)), FormatReward()], timeout: 0.2)
        let start = Date()
        let batch = try runner.score(completions: completions, columns: columns)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "the runner gave up after the timeout")
        XCTAssertEqual(batch.scores[0], [nil, nil])
        XCTAssertEqual(batch.scores[1], [1, 0], "the other reward still scores")
        XCTAssertEqual(batch.outcomes, [.timedOut, .scored])
        XCTAssertEqual(runner.statistics[0].timeouts, 1)
        XCTAssertEqual(runner.statistics[0].failures, 0)
        XCTAssertEqual(runner.statistics[0].unjudged, 2)
        XCTAssertEqual(runner.metrics["rewards/slow/timeouts"], 1)
        XCTAssertEqual(batch.metrics["rewards/slow/mean"]?.isNaN, true, "no judged completions: NaN mean")
    }

    func testARewardWithinTheTimeoutScores() throws {
        let runner = RewardRunner(rewards: [StubReward(name: "fast", behaviour: .sleep(0.05))], timeout: 5)
        XCTAssertEqual(try runner.score(completions: completions, columns: columns).scores, [[1, 1]])
        XCTAssertGreaterThan(runner.statistics[0].seconds, 0.04)
    }

    func testARewardThatThrowsOrMiscountsYieldsNilAndIsCounted() throws {
        let runner = RewardRunner(rewards: [StubReward(name: "broken", behaviour: .fail),
                                            StubReward(name: "short", behaviour: .scores([1])),
                                            StubReward(name: "nan", behaviour: .scores([.nan, .infinity]))], timeout: 5)
        for _ in 0..<2 {
            let batch = try runner.score(completions: completions, columns: columns)
            XCTAssertEqual(batch.scores, [[nil, nil], [nil, nil], [nil, nil]])
            guard case .failed = batch.outcomes[0], case let .failed(message) = batch.outcomes[1] else {
                return XCTFail("\(batch.outcomes)")
            }
            XCTAssertEqual(message, "reward 'short' returned 1 scores for 2 completions")
            XCTAssertEqual(batch.outcomes[2], .scored, "non-finite scores are unjudged, not a failure")
        }
        XCTAssertEqual(runner.statistics.map(\.failures), [2, 2, 0])
        XCTAssertEqual(runner.metrics["rewards/broken/failures"], 2)
        XCTAssertEqual(runner.statistics.map(\.nonfinite), [0, 0, 4])
        XCTAssertEqual(runner.metrics["rewards/nan/nonfinite"], 4)
    }

    func testBatchShapeIsChecked() {
        let runner = RewardRunner(rewards: [FormatReward()])
        XCTAssertThrowsError(try runner.score(completions: ["a"], columns: []))
    }
}
