import Rewards
import Tasks
import XCTest

final class LengthPenaltyTests: XCTestCase {
    func testPenaltyIsLinearBeyondTheTargetAndClipped() throws {
        let reward = try LengthPenalty(targetLength: 10, scale: 5, maxPenalty: 2)
        let texts = ["", String(repeating: "a", count: 10), String(repeating: "a", count: 12),
                     String(repeating: "a", count: 15), String(repeating: "é", count: 20), String(repeating: "a", count: 1000)]
        XCTAssertEqual(try reward.score(completions: texts, columns: texts.map { _ in [:] }), [0, 0, -0.4, -1, -2, -2])
    }

    func testOptionsAreValidated() {
        XCTAssertThrowsError(try LengthPenalty(scale: 0))
        XCTAssertThrowsError(try LengthPenalty(targetLength: -1))
        XCTAssertThrowsError(try LengthPenalty(maxPenalty: -1))
    }

    func testRegistry() throws {
        for name in BuiltinRewards.names {
            XCTAssertEqual(try BuiltinRewards.make(name, weight: 0.5).name, name)
            XCTAssertEqual(try BuiltinRewards.make(name, weight: 0.5).weight, 0.5)
        }
        XCTAssertThrowsError(try BuiltinRewards.make("accuracy")) { error in
            XCTAssertEqual("\(error)", "unknown reward 'accuracy'; known rewards: math_answer, reasoning_gym, format, soft_format, countdown, equation_steps, reference_steps, length, consistency, code_runs, code_tests, code_tests_binary")
        }
    }
}
