import XCTest
@testable import Training

final class ProgressBarTests: XCTestCase {
    /// Off a terminal the bar prints about twenty lines a run, whatever steps it is offered, and
    /// always the last step, and a line a minute when steps are slow; on a terminal every offered
    /// step is drawn.
    func testPrintsATwentiethOfTheRunOffATerminal() {
        let bar = ProgressBar(total: 600, startTime: 0, isTerminal: false)
        var printed: [Int] = []
        for step in stride(from: 25, through: 600, by: 25) where bar.shows(step: step, at: 0) {
            printed.append(step)
            bar.show("line \(step)", step: step, at: 0)
        }
        XCTAssertEqual(printed, [25, 75, 125, 175, 225, 275, 325, 375, 425, 475, 525, 575, 600])
        // Slow steps (30 s each) print a line a minute, though a twentieth of the run is 50 steps.
        let slow = ProgressBar(total: 1000, startTime: 0, isTerminal: false)
        let slowSteps = (1...7).filter { step in
            defer { slow.show("line \(step)", step: step, at: 30 * Double(step)) }
            return slow.shows(step: step, at: 30 * Double(step))
        }
        XCTAssertEqual(slowSteps, [1, 3, 5, 7])
        let terminal = ProgressBar(total: 600, startTime: 0, isTerminal: true)
        XCTAssertTrue((1...600).allSatisfy { terminal.shows(step: $0) })
    }

    func testLineShowsStepTotalAndFigures() {
        let bar = ProgressBar(total: 100, startTime: 0, isTerminal: false)
        let line = bar.line(step: 50, startStep: 0, now: 60, figures: [("loss", "0.5000")])
        XCTAssertEqual(line, "[############............] 50/100 01:00 < 01:00  loss 0.5000")
        // A time limit 20 s away ends the run before step 100: the ETA is the limit's.
        XCTAssertEqual(bar.line(step: 50, startStep: 0, now: 60, figures: [], timeLeft: 20), "[############............] 50/100 01:00 < 00:20  ")
        XCTAssertEqual(bar.line(step: 50, startStep: 0, now: 60, figures: [], timeLeft: 600), "[############............] 50/100 01:00 < 01:00  ")
    }
}
