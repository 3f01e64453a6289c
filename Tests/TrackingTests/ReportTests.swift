import Foundation
import XCTest
@testable import Tracking

final class ReportTests: XCTestCase {
    func line(_ step: Int, _ values: [String: Double]) -> RunRecord.Line { RunRecord.Line(step: step, values: values) }

    /// The polylines' points are the metrics scaled into the plot: each recomputed here.
    func testPolylinePointsAreTheScaledMetrics() throws {
        let rewards = [0.1, 0.4, 0.35, 0.8]
        let run = RunRecord(name: "a", lines: rewards.enumerated().map { line($0 + 1, ["reward": $1, "train_time": Double($0) * 2.5]) })
        let page = ReportPage(runs: [run])
        let panel = try XCTUnwrap(page.panels.first { $0.keys == ["reward"] })
        for time in [false, true] {
            let plot = page.plot(panel, time: time)
            let ranges = try XCTUnwrap(plot.ranges)
            XCTAssertEqual(ranges.y, 0.1...0.8)
            XCTAssertEqual(ranges.x, time ? 0...7.5 : 1...4)
            let expected = rewards.enumerated().map { i, r in
                SVGPlot.position(time ? Double(i) * 2.5 : Double(i + 1), r, ranges: ranges)
            }.map { String(format: "%.2f,%.2f", $0.x, $0.y) }.joined(separator: " ")
            let svg = plot.svg(cssClass: "x")
            XCTAssertTrue(svg.contains("<polyline points=\"\(expected)\""), svg)
            // The first point sits on the left edge, the highest at the top of the plot area.
            XCTAssertTrue(expected.hasPrefix(String(format: "%.2f,", SVGPlot.margin.left)), expected)
            XCTAssertTrue(expected.contains(String(format: ",%.2f", SVGPlot.margin.top)), expected)
        }
    }

    /// NaN values break the line, a single point is a dot, a missing evaluation leaves its panel out,
    /// and a completion holding HTML is escaped.
    func testOddRunsStillRender() throws {
        let nan = RunRecord(name: "nan", lines: [line(1, ["reward": 0.2]), line(2, ["reward": .nan]), line(3, ["reward": 0.4]),
                                                   line(4, ["reward": 0.5, "loss": .nan])])
        let svg = ReportPage(runs: [nan]).plot(try XCTUnwrap(ReportPage(runs: [nan]).panels.first), time: false).svg(cssClass: "x")
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 1, "the lone point before the NaN")
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 1, "the two points after it")

        let single = RunRecord(name: "one", lines: [line(1, ["reward": 0.5])])
        let page = ReportPage(runs: [single]).html()
        XCTAssertTrue(page.contains("<circle"), "one step is a dot")
        XCTAssertFalse(page.contains("Held-out accuracy"), "no evaluation, no held-out panel")
        XCTAssertTrue(page.contains("no data"), "the time axis of a run without train_time says so")

        let hostile = RunRecord(name: "<b>run</b>", lines: [line(1, ["reward": 1])],
                                completions: [["step": 1, "prompt": "2+2=", "completion": "<script>alert(1)</script> & \"x\"",
                                               "rewards": ["math_answer": 1.0], "advantage": 0.5]])
        let html = ReportPage(runs: [hostile]).html()
        XCTAssertFalse(html.contains("<script>alert"), "a completion cannot inject a script")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"))
        XCTAssertFalse(html.contains("<b>run</b>"))
        XCTAssertEqual(html.components(separatedBy: "<script>").count - 1, 1, "only the page's own script")
    }

    /// Several runs are overlaid in one colour each, with a legend entry per run and metric.
    func testRunsAreOverlaidWithALegend() throws {
        let a = RunRecord(name: "seed 1", lines: [line(1, ["eval/pass@1": 0.2, "eval/greedy": 0.3]), line(2, ["eval/pass@1": 0.5, "eval/greedy": 0.6])])
        let b = RunRecord(name: "seed 2", lines: [line(1, ["eval/pass@1": 0.1]), line(2, ["eval/pass@1": 0.4])])
        let page = ReportPage(runs: [a, b])
        let plot = page.plot(try XCTUnwrap(page.panels.first { $0.title == "Held-out accuracy" }), time: false)
        XCTAssertEqual(plot.series.map(\.label), ["seed 1 eval/greedy", "seed 1 eval/pass@1", "seed 2 eval/pass@1"])
        XCTAssertEqual(Set(plot.series.map(\.color)).count, 2)
        XCTAssertEqual(plot.series[1].points.map(\.y), [20, 50], "fractions shown as %")
        let html = page.html()
        XCTAssertTrue(html.contains("20.0% &rarr; 50.0%"), "summary: pass@1 start and end")
    }

    func testTicksAreRoundNumbersInsideTheRange() {
        XCTAssertEqual(SVGPlot.ticks(0...1), [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(SVGPlot.ticks(1...2000), [500, 1000, 1500, 2000])
        XCTAssertEqual(SVGPlot.ticks(-0.03...0.05), [-0.02, 0, 0.02, 0.04])
    }
}
