import XCTest
@testable import Tasks

final class ColumnAdditionTests: XCTestCase {
    func testColumnStepsCarryAndEndInTheSum() {
        XCTAssertEqual(ArithmeticTask.columnAddition(687, 932), "7+2=9, 8+3=11, 6+9+1=16")
        XCTAssertEqual(ArithmeticTask.columnAddition(123, 456), "3+6=9, 2+5=7, 1+4=5")
        XCTAssertEqual(ArithmeticTask.columnAddition(999, 1), "9+1=10, 9+0+1=10, 9+0+1=10")
        var random = SeededRandom(seed: 4)
        let task = try! ArithmeticTask(digits: 3, operations: [.add])
        for _ in 0..<50 {
            let p = task.problem(using: &random)
            // Every step is a true equation, and the last step's sum starts the answer.
            let steps = p.working.components(separatedBy: ", ")
            XCTAssertTrue(p.answer.hasPrefix(String(steps.last!.split(separator: "=")[1])))
            for step in steps {
                let sides = step.split(separator: "=")
                XCTAssertEqual(sides[0].split(separator: "+").compactMap { Int($0) }.reduce(0, +), Int(sides[1]))
            }
        }
    }
}
