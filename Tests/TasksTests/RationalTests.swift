import Tasks
import XCTest

final class RationalTests: XCTestCase {
    func testNormalisesSignAndLowestTerms() throws {
        let cases: [(Int, Int, Int, Int)] = [(6, 8, 3, 4), (-6, 8, -3, 4), (6, -8, -3, 4), (-6, -8, 3, 4), (0, -5, 0, 1),
                                             (Int.min, 2, Int.min / 2, 1), (Int.max, Int.max, 1, 1)]
        for (n, d, en, ed) in cases {
            let r = try Rational(n, d)
            XCTAssertEqual([r.numerator, r.denominator], [en, ed], "\(n)/\(d)")
        }
    }

    func testArithmeticIsExact() throws {
        let tenth = try Rational(1, 10), fifth = try Rational(1, 5)
        XCTAssertEqual(try tenth.adding(fifth), try Rational(3, 10), "0.1 + 0.2 is exactly 0.3")
        XCTAssertEqual(try Rational(1, 3).subtracting(Rational(1, 2)), try Rational(-1, 6))
        XCTAssertEqual(try Rational(2, 3).multiplied(by: Rational(9, 4)), try Rational(3, 2))
        XCTAssertEqual(try Rational(2, 3).divided(by: Rational(-4, 9)), try Rational(-3, 2))
        XCTAssertEqual(try Rational(7).negated(), Rational(-7))
    }

    func testOverflowAndDivisionByZeroThrowInsteadOfTrapping() {
        let big = Rational(Int.max)
        XCTAssertThrowsError(try big.adding(Rational(1))) { error in
            guard case .overflow = error as? TaskError else { return XCTFail("expected overflow, got \(error)") }
        }
        XCTAssertThrowsError(try big.multiplied(by: Rational(2)))
        XCTAssertThrowsError(try Rational(Int.min).negated())
        XCTAssertThrowsError(try Rational(Int.min).subtracting(Rational(1)))
        XCTAssertThrowsError(try Rational(1, 0)) { error in
            guard case .divisionByZero = error as? TaskError else { return XCTFail("expected division by zero, got \(error)") }
        }
        XCTAssertThrowsError(try Rational(3).divided(by: .zero))
        XCTAssertThrowsError(try Rational(1, Int.min), "the denominator's magnitude 2^63 does not fit")
    }

    func testLargeButReducibleResultsFit() throws {
        // (max/2) * (2/max) = 1: cross-reduction avoids the overflowing intermediate product.
        let a = try Rational(Int.max, 2), b = try Rational(2, Int.max)
        XCTAssertEqual(try a.multiplied(by: b), .one)
        // Same denominators add without multiplying them.
        XCTAssertEqual(try Rational(1, Int.max).adding(Rational(2, Int.max)), try Rational(3, Int.max))
    }

    func testComparisonNeverOverflows() throws {
        XCTAssertLessThan(try Rational(Int.max - 1, Int.max), Rational(1))
        XCTAssertLessThan(Rational(Int.min), Rational(Int.max))
        XCTAssertLessThan(try Rational(-1, 3), try Rational(-1, 4))
        XCTAssertEqual([Rational(2), try Rational(1, 2), Rational(-1)].sorted(), [Rational(-1), try Rational(1, 2), Rational(2)])
    }

    func testParsing() throws {
        let cases: [(String, Rational?)] = [
            ("42", Rational(42)), ("-42", Rational(-42)), ("+7", Rational(7)), ("0.75", try Rational(3, 4)),
            (".5", try Rational(1, 2)), ("2.", Rational(2)), ("-0.125", try Rational(-1, 8)), ("3/4", try Rational(3, 4)),
            ("-6/8", try Rational(-3, 4)), ("1e-05", try Rational(1, 100_000)), ("2.5E3", Rational(2500)),
            ("0.1", try Rational(1, 10)), ("1/0", nil), ("", nil), ("-", nil), (".", nil), ("1.2.3", nil), ("12a", nil),
            ("1,000", nil), (" 5", nil), ("99999999999999999999", nil), ("1e999", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(Rational(text), expected, "'\(text)'")
        }
    }

    func testDescription() throws {
        XCTAssertEqual(try Rational(-3, 4).description, "-3/4")
        XCTAssertEqual(Rational(5).description, "5")
        XCTAssertEqual(try Rational(3, 4).doubleValue, 0.75)
    }
}
