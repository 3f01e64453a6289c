import Foundation
import XCTest
@testable import Sandbox

/// Programs run, their output, exit codes, stdin and limits, one at a time and in batches.
final class SandboxTests: XCTestCase {
    func sandbox(wall: Double = 5) throws -> Sandbox {
        var limits = SandboxLimits()
        limits.wallSeconds = wall
        limits.cpuSeconds = 3
        limits.memoryBytes = 512 << 20
        limits.outputBytes = 16 << 10
        do { return try Sandbox(limits: limits) } catch { throw XCTSkip("no sandbox isolation here: \(error)") }
    }

    func testProgramsRunWithStdinAndReportExitCodes() throws {
        let s = try sandbox()
        XCTAssertEqual(s.isolation, FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") ? .bubblewrap : .unshare)
        let echo = s.run(program: "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))", stdin: "2 3 4\n")
        XCTAssertEqual(echo.status, .exited(0))
        XCTAssertEqual(echo.stdout, "9\n")
        let failing = s.run(program: "x = 1\nraise ValueError('bad ' + str(x))")
        XCTAssertEqual(failing.status, .exited(1))
        XCTAssertEqual(failing.lastErrorLine, "ValueError: bad 1")
        XCTAssertEqual(s.run(program: "import sys\nsys.exit(3)").status, .exited(3))
        let memory = s.run(program: "x = bytearray(2 << 30)")
        XCTAssertTrue(memory.ranOutOfMemory, "\(memory)")
    }

    /// A batch runs every program, in order, with the same statuses as single runs.
    func testBatchesKeepOrderAndStatuses() throws {
        let s = try sandbox(wall: 2)
        let jobs: [(program: String, stdin: String)] = [
            ("print(input()[::-1])", "abc\n"), ("raise KeyError('k')", ""), ("while True: pass", ""), ("print('x' * 100000)", ""),
            ("import sys; sys.exit(4)", ""), ("print(sum(range(10)))", ""),
        ]
        let results = s.runBatch(jobs, workers: 2)
        XCTAssertEqual(results.count, jobs.count)
        XCTAssertEqual(results[0].stdout, "cba\n")
        XCTAssertEqual(results[1].status, .exited(1))
        XCTAssertEqual(results[1].lastErrorLine, "KeyError: 'k'")
        XCTAssertTrue(results[1].stderr.contains("raise KeyError('k')"), "the traceback shows the program's line: \(results[1].stderr)")
        XCTAssertTrue([.timedOut, .signaled(SIGXCPU), .signaled(SIGKILL)].contains(results[2].status), "\(results[2].status)")
        XCTAssertEqual(results[3].status, .outputLimit)
        XCTAssertEqual(results[4].status, .exited(4))
        XCTAssertEqual(results[5].stdout, "45\n")
        let single = s.run(program: jobs[5].program)
        XCTAssertEqual(single.stdout, results[5].stdout)
    }

    /// Identical jobs in a batch run once: a program printing random bytes prints the same for each copy,
    /// and differently for another stdin.
    func testIdenticalJobsRunOnce() throws {
        let s = try sandbox()
        let program = "import os, sys\nprint(sys.stdin.read().strip(), os.urandom(8).hex())"
        let results = s.runBatch([(program, "a"), (program, "b"), (program, "a"), (program, "a")], workers: 2)
        XCTAssertEqual(results.map(\.stdout.first), ["a", "b", "a", "a"])
        XCTAssertEqual(results[0].stdout, results[2].stdout)
        XCTAssertEqual(results[0].stdout, results[3].stdout)
        XCTAssertNotEqual(results[0].stdout.dropFirst(), results[1].stdout.dropFirst())
    }

    /// Many trivial programs a second through the batch path (the code rewards' path); the per-program
    /// isolation of `run` is slower (it starts a container and an interpreter each time).
    func testBatchThroughput() throws {
        let s = try sandbox()
        let start = Date()
        let results = s.runBatch((0..<200).map { ("print(\($0))", "") })
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(results.map(\.stdout), (0..<200).map { "\($0)\n" })
        XCTAssertLessThan(seconds, 5, "200 trivial programs took \(seconds) s")
    }
}
