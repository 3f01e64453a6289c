import Tasks
import XCTest

final class ExpressionParserTests: XCTestCase {
    let parser = ExpressionParser()

    func testValues() throws {
        let cases: [(String, Rational)] = [
            ("1+2*3", Rational(7)), ("(1+2)*3", Rational(9)), ("10-4-3", Rational(3)), ("24/4/2", Rational(3)),
            ("-3+5", Rational(2)), ("2*-3", Rational(-6)), ("--4", Rational(4)), ("7/2", try Rational(7, 2)),
            (" ( 3 + 5 ) * 2 ", Rational(16)), ("0.1+0.2", try Rational(3, 10)), ("6 × 7", Rational(42)),
            ("8 ÷ 2 − 1", Rational(3)), ("(7/2)*4", Rational(14)), ("((((5))))", Rational(5)),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try parser.evaluate(text), expected, "'\(text)'")
        }
    }

    func testErrorsNameThePosition() {
        let cases: [(String, Int)] = [("1+", 2), ("", 0), ("(1+2", 4), ("1+2)", 3), ("2**3", 2), ("3 x 4", 2),
                                      ("import os", 0), ("1..2", 0), ("4 5", 2), ("()", 1)]
        for (text, position) in cases {
            XCTAssertThrowsError(try parser.parse(text), "'\(text)'") { error in
                guard case let .invalidExpression(expression, at, _) = error as? TaskError else {
                    return XCTFail("'\(text)': expected invalidExpression, got \(error)")
                }
                XCTAssertEqual(expression, text)
                XCTAssertEqual(at, position, "'\(text)': \(error)")
            }
        }
    }

    func testDivisionByZeroAndOverflowAreErrors() {
        XCTAssertThrowsError(try parser.evaluate("5/(3-3)")) { error in
            guard case .divisionByZero = error as? TaskError else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try parser.evaluate("9223372036854775807+1")) { error in
            guard case .overflow = error as? TaskError else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try parser.evaluate("99999999999999999999"))
    }

    func testDeepNestingAndLongInputAreRejectedNotCrashing() {
        let deep = String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200)
        XCTAssertThrowsError(try parser.parse(deep)) { error in
            XCTAssertTrue("\(error)".contains("nested deeper than 100"), "\(error)")
        }
        let veryDeep = String(repeating: "(", count: 100_000)
        XCTAssertThrowsError(try parser.parse(veryDeep)) { error in
            XCTAssertTrue("\(error)".contains("longer than 1000"), "\(error)")
        }
        let minuses = String(repeating: "-", count: 500) + "1"
        XCTAssertThrowsError(try parser.parse(minuses))
        let long = Array(repeating: "1", count: 600).joined(separator: "+")
        XCTAssertThrowsError(try parser.parse(long))
    }

    func testLiteralsAndDescriptionRoundTrip() throws {
        let expression = try parser.parse("(3 + 5) * 2 - 8 / (4 - 2)")
        XCTAssertEqual(expression.literals, [3, 5, 2, 8, 4, 2].map { Rational($0) })
        XCTAssertEqual(expression.description, "(3+5)*2-8/(4-2)")
        XCTAssertEqual(try parser.parse(expression.description), expression)
        for text in ["8-(2-1)", "8/(4/2)", "-(3+4)", "2*(3*4)"] {
            let parsed = try parser.parse(text)
            XCTAssertEqual(try parser.evaluate(parsed.description), try parsed.evaluate(), text)
        }
    }
}
