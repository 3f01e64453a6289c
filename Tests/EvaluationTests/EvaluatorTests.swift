import XCTest
@testable import Evaluation

final class EvaluatorTests: XCTestCase {
    func testUnbiasedPassAtK() {
        XCTAssertEqual(Evaluator.passAtK(n: 8, c: 0, k: 1), 0)
        XCTAssertEqual(Evaluator.passAtK(n: 8, c: 2, k: 1), 0.25, accuracy: 1e-12)
        XCTAssertEqual(Evaluator.passAtK(n: 8, c: 1, k: 8), 1)
        // 1 - C(6, 2) / C(8, 2) = 1 - 15/28
        XCTAssertEqual(Evaluator.passAtK(n: 8, c: 2, k: 2), 13.0 / 28.0, accuracy: 1e-12)
        XCTAssertEqual(Evaluator.passAtK(n: 10, c: 3, k: 5), 1 - 21.0 / 252.0, accuracy: 1e-12)
    }
}
