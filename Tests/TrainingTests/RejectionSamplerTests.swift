import Training
import XCTest

/// What rejection sampling keeps of one prompt's samples: pass-rate filter, best or all correct, dedupe.
final class RejectionSamplerTests: XCTestCase {
    func sampler(keep: RejectionSampler.Keep, passRate: ClosedRange<Double> = 0...1, dedupe: Bool = false) -> RejectionSampler {
        var s = RejectionSampler()
        s.threshold = 1
        s.keep = keep
        s.passRate = passRate
        s.dedupe = dedupe
        return s
    }

    func testBestKeepsTheHighestCorrectSampleAndTheFirstOnTies() {
        var summary = RejectionSampler.Summary()
        let best = sampler(keep: .best)
        XCTAssertEqual(best.choose(rewards: [0.5, 1.5, nil, 2, 2], texts: ["a", "b", "c", "d", "e"], summary: &summary), [3])
        XCTAssertEqual(best.choose(rewards: [1, 1.0, 0], texts: ["a", "b", "c"], summary: &summary), [0])
        // The best is not correct: nothing is kept.
        XCTAssertEqual(best.choose(rewards: [0.9, nil, 0.2], texts: ["a", "b", "c"], summary: &summary), [])
        XCTAssertEqual(summary.prompts, 3)
        XCTAssertEqual(summary.samples, 11)
        XCTAssertEqual(summary.correctSamples, 5)
        XCTAssertEqual(summary.keptPrompts, 2)
        XCTAssertEqual(summary.keptRows, 2)
    }

    func testAllCorrectKeepsEveryCorrectSampleAndDedupeDropsRepeats() {
        var summary = RejectionSampler.Summary()
        XCTAssertEqual(sampler(keep: .allCorrect).choose(rewards: [1, 0, 1, 3], texts: ["x", "y", "x", "z"], summary: &summary), [0, 2, 3])
        XCTAssertEqual(summary.duplicatesDropped, 0)
        XCTAssertEqual(sampler(keep: .allCorrect, dedupe: true).choose(rewards: [1, 0, 1, 3], texts: ["x", "y", "x", "z"], summary: &summary),
                       [0, 3])
        XCTAssertEqual(summary.duplicatesDropped, 1)
        XCTAssertEqual(summary.keptRows, 5)
    }

    func testPassRateDropsPromptsThatAreTooEasyOrTooHard() {
        var summary = RejectionSampler.Summary()
        let s = sampler(keep: .allCorrect, passRate: 0.25...0.75)
        XCTAssertEqual(s.choose(rewards: [1, 1, 1, 1], texts: ["a", "b", "c", "d"], summary: &summary), [], "pass rate 1 > 0.75")
        XCTAssertEqual(s.choose(rewards: [0, 0, 0, 1], texts: ["a", "b", "c", "d"], summary: &summary), [3], "0.25 is inside")
        XCTAssertEqual(s.choose(rewards: [0, nil, 0, 0], texts: ["a", "b", "c", "d"], summary: &summary), [], "pass rate 0 < 0.25")
        XCTAssertEqual(s.choose(rewards: [1, 1, 1, 0], texts: ["a", "b", "c", "d"], summary: &summary), [0, 1, 2], "0.75 is inside")
        XCTAssertEqual(summary.tooEasy, 1)
        XCTAssertEqual(summary.tooHard, 1)
        XCTAssertEqual(summary.keptPrompts, 2)
        XCTAssertTrue(summary.description.contains("1 too easy, 1 too hard; kept 4 rows from 2 prompts"), summary.description)
    }
}
