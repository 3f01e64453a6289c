import Tasks
import XCTest

/// Table-driven answer extraction on tricky strings; the choices are documented in `AnswerExtractor` and
/// `NumberScanner`.
final class AnswerExtractorTests: XCTestCase {
    func r(_ n: Int, _ d: Int = 1) -> Rational { try! Rational(n, d) }

    func testFinalAnswer() {
        let cases: [(String, Rational?, String)] = [
            ("The answer is 42.", r(42), "a sentence's full stop is not a decimal point"),
            ("\\boxed{\\frac{3}{4}}", r(3, 4), "LaTeX fraction in a box"),
            ("<answer> 0.75 </answer>", r(3, 4), "spaces inside the tags"),
            ("<think>2+2=5?</think><answer>4</answer>", r(4), "tags win over numbers in the reasoning"),
            ("<answer>1</answer> then <answer>2</answer>", r(2), "the last answer tag"),
            ("x = -5", r(-5), "a sign after '='"),
            ("10-5", r(5), "a minus after a digit is an operator"),
            ("123-456=-333", r(-333), "a negative result"),
            ("−7", r(-7), "the Unicode minus sign"),
            ("It costs 1,000 dollars", r(1000), "thousands separator"),
            ("12,345,678", r(12_345_678), "several separator groups"),
            ("pick 3,4", r(4), "a comma not followed by three digits separates numbers"),
            ("1,0000", r(0), "a group of four digits is not a thousands group"),
            ("3/4", r(3, 4), "a plain fraction"),
            ("so x = \\dfrac{-6}{8}", r(-3, 4), "dfrac with a signed numerator"),
            ("-\\frac{1}{2}", r(-1, 2), "a signed LaTeX fraction"),
            ("\\boxed{x = 17}", r(17), "a box with more than a number: its last number"),
            ("<answer>The result is 579</answer>", r(579), "a tag with words: its last number"),
            ("<answer>$\\frac{1}{3}$</answer>", r(1, 3), "math delimiters"),
            ("<answer>\\boxed{12}</answer>", r(12), "a box inside the tag"),
            ("0.30", r(3, 10), "trailing zeros"),
            (".5", r(1, 2), "no leading zero"),
            ("no numbers here", nil, "nothing to find"),
            ("<answer></answer> 7", nil, "an empty answer tag is the answer, and is no number"),
            ("99999999999999999999999", nil, "too large for Int"),
            ("\\boxed{\\frac{1}{0}}", nil, "a fraction over zero has no value"),
            ("H2O has 3 atoms", r(3), "the last number, even after a digit inside a word"),
            ("\\boxed {5}", r(5), "a space before the brace"),
        ]
        for (text, expected, why) in cases {
            XCTAssertEqual(AnswerExtractor.finalAnswer(in: text), expected, "'\(text)': \(why)")
        }
    }

    func testStrictNumber() {
        let cases: [(String, Rational?)] = [
            (" 42 ", r(42)), ("42.", r(42)), ("$-3$", r(-3)), ("3 / 4", r(3, 4)), ("- 5", r(-5)), ("\\(2\\)", r(2)),
            ("1,000", r(1000)), ("x=4", nil), ("4 5", nil), ("2+2", nil), ("", nil), ("50%", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(AnswerExtractor.number(in: text), expected, "'\(text)'")
        }
    }

    func testReferenceAnswer() {
        XCTAssertEqual(AnswerExtractor.referenceAnswer(.int(579)), r(579))
        XCTAssertEqual(AnswerExtractor.referenceAnswer(.double(0.1)), r(1, 10), "a double's shortest decimal form")
        XCTAssertEqual(AnswerExtractor.referenceAnswer(.double(1e-5)), r(1, 100_000))
        XCTAssertEqual(AnswerExtractor.referenceAnswer("3/4"), r(3, 4))
        XCTAssertEqual(AnswerExtractor.referenceAnswer("Natalia sold 48+24 = 72 clips.\n#### 72"), r(72), "GSM8K")
        XCTAssertEqual(AnswerExtractor.referenceAnswer("\\boxed{\\frac{2}{3}}"), r(2, 3))
        XCTAssertNil(AnswerExtractor.referenceAnswer("(3+5)*2"), "an expression is not a numeric reference")
        XCTAssertNil(AnswerExtractor.referenceAnswer(.bool(true)))
        XCTAssertNil(AnswerExtractor.referenceAnswer(.double(.nan)))
    }

    func testDecimalsCompareExactly() {
        XCTAssertEqual(AnswerExtractor.matches(completion: "<answer>0.3</answer>", answer: "0.30"), true)
        XCTAssertEqual(AnswerExtractor.matches(completion: "0.1+0.2 = 0.3", answer: .double(0.3)), true)
        XCTAssertEqual(AnswerExtractor.matches(completion: "<answer>0.333</answer>", answer: "1/3"), false)
        XCTAssertEqual(AnswerExtractor.matches(completion: "<answer>0.75</answer>", answer: "\\frac{3}{4}"), true)
        XCTAssertEqual(AnswerExtractor.matches(completion: "nothing", answer: "3"), false)
        XCTAssertNil(AnswerExtractor.matches(completion: "3", answer: "three"))
    }
}
