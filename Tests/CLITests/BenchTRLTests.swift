import Foundation
import XCTest

/// `grpo bench grpo-step --trl` runs the TRL script after its own step and reports the ratio; a missing
/// script, a failing script and a script without a report line are errors that say so. A stand-in
/// script (run by /bin/sh in place of Python) plays TRL, so the test needs no Python.
final class BenchTRLTests: XCTestCase {
    func script(_ body: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-trl-\(UUID().uuidString).sh")
        try body.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func bench(_ script: String) throws -> (status: Int32, out: String, err: String) {
        try GRPOBinary.run(["bench", "grpo-step", "--steps", "1", "--warmup", "0", "--json", "--trl",
                            "--python", "/bin/sh", "--trl-script", script])
    }

    func testTheRatioIsTRLsStepTimeOverOurs() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let fake = try script("""
            echo 'progress bars go to stderr' >&2
            echo '{"trl": "1.16.0", "torch": "2.13", "median_step_seconds": 7.5, "completion_tokens_per_second": 100, "peak_rss_mb": 900}'
            """)
        let result = try bench(fake)
        XCTAssertEqual(result.status, 0, result.err)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let ours = try XCTUnwrap(report["median_step_seconds"] as? Double)
        let trl = try XCTUnwrap(report["trl"] as? [String: Any])
        XCTAssertEqual(trl["median_step_seconds"] as? Double, 7.5)
        XCTAssertEqual(trl["trl"] as? String, "1.16.0")
        XCTAssertEqual(try XCTUnwrap(report["speedup_vs_trl"] as? Double), 7.5 / ours, accuracy: 1e-9)
    }

    func testBadScriptsAreNamedErrors() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let missing = try bench("/nonexistent/bench_trl.py")
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("no script at /nonexistent/bench_trl.py"), missing.err)

        let failing = try script("echo 'No module named trl' >&2; exit 3")
        let failed = try bench(failing)
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.err.contains("exited with status 3"), failed.err)
        XCTAssertTrue(failed.err.contains("No module named trl"), failed.err)

        let silent = try bench(try script("echo done"))
        XCTAssertNotEqual(silent.status, 0)
        XCTAssertTrue(silent.err.contains("printed no JSON report line"), silent.err)
    }
}
