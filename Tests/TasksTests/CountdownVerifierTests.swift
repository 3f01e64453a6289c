import Tasks
import XCTest

final class CountdownVerifierTests: XCTestCase {
    let atMostOnce = CountdownVerifier()
    let exactlyOnce = CountdownVerifier(useEachNumberExactlyOnce: true)

    func testCorrectAnswers() {
        XCTAssertEqual(atMostOnce.check(expression: "(3+5)*2", numbers: [3, 5, 2, 7], target: 16), .correct)
        XCTAssertEqual(exactlyOnce.check(expression: "(3+5)*2+7-7", numbers: [3, 5, 2, 7, 7], target: 16), .correct)
        XCTAssertEqual(atMostOnce.check(expression: "7 * 7", numbers: [7, 3, 7], target: 49), .correct,
                       "a repeated number may be used as often as it is given")
    }

    func testEachNumberAtMostOnceOrExactlyOnce() {
        XCTAssertEqual(atMostOnce.check(expression: "3*3", numbers: [3, 5], target: 9), .wrongNumbers(used: [3, 3].map { Rational($0) }))
        XCTAssertEqual(atMostOnce.check(expression: "3+5", numbers: [3, 5, 2], target: 8), .correct, "2 unused is fine")
        XCTAssertEqual(exactlyOnce.check(expression: "3+5", numbers: [3, 5, 2], target: 8),
                       .wrongNumbers(used: [3, 5].map { Rational($0) }), "exactly once: 2 is unused")
    }

    func testWrongNumbersAndValues() {
        XCTAssertEqual(atMostOnce.check(expression: "4*4", numbers: [3, 5], target: 16), .wrongNumbers(used: [4, 4].map { Rational($0) }))
        XCTAssertEqual(atMostOnce.check(expression: "1.5*2", numbers: [3, 2], target: 3), .wrongNumbers(used: [try! Rational(3, 2), Rational(2)]))
        XCTAssertEqual(atMostOnce.check(expression: "3+5", numbers: [3, 5], target: 9), .wrongValue(Rational(8)))
    }

    func testNonIntegerIntermediatesAreFineWhenExact() {
        XCTAssertEqual(atMostOnce.check(expression: "(7/2)*4", numbers: [7, 2, 4], target: 14), .correct)
        XCTAssertEqual(atMostOnce.check(expression: "8/(3-8/3)", numbers: [8, 3, 8, 3], target: 24), .correct,
                       "the classic 8/(3-8/3) = 24 needs exact fractions")
        XCTAssertEqual(atMostOnce.check(expression: "1/3*3", numbers: [1, 3, 3], target: 1), .correct)
    }

    func testInvalidExpressions() {
        for text in ["5/(3-3)", "3+", "__import__('os')", "3+5=8", ""] {
            guard case .invalid = atMostOnce.check(expression: text, numbers: [3, 5, 3], target: 8) else {
                return XCTFail("'\(text)' should be invalid")
            }
        }
    }

    func testCompletionsUseTheLastAnswerTagOrTheWholeText() {
        XCTAssertEqual(CountdownVerifier.expression(in: "<think>try 3*5</think><answer> (3+5)*2 </answer>"), "(3+5)*2")
        XCTAssertEqual(CountdownVerifier.expression(in: " (3+5)*2\n"), "(3+5)*2")
        XCTAssertEqual(atMostOnce.check(completion: "<think>x</think><answer>3*5+2</answer>", numbers: [3, 5, 2], target: 17), .correct)
    }
}
