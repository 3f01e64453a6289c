import ArgumentParser
import Foundation
import Sandbox
import TensorCore

/// `grpo bench sandbox`: programs per second through the sandbox: a trivial program and a
/// HumanEval-sized test run, one container each (`run`) and through the code rewards' batch path
/// (`runBatch`: a fork per program in few containers), against a bare `python3 -c pass`.
struct SandboxBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Programs per second through the sandbox, and the per-call overhead against a bare python3.")

    @Option(help: "Programs per measurement.") var programs = 200
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...100_000).contains(programs) else { throw ValidationError("--programs must be in 1...100000, got \(programs)") }
    }

    struct Report: Encodable {
        let isolation: String
        let workers: Int
        let bare_python_ms: Double
        let run_trivial_ms: Double
        let batch_trivial_per_second: Double
        let batch_humaneval_per_second: Double
    }

    /// A HumanEval-sized program: a function and a check with seven asserts.
    static let humanEvalSized = """
        from typing import List

        def has_close_elements(numbers: List[float], threshold: float) -> bool:
            for i, a in enumerate(numbers):
                for j, b in enumerate(numbers):
                    if i != j and abs(a - b) < threshold:
                        return True
            return False

        def check(candidate):
            assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True
            assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False
            assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True
            assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.8) == False
            assert candidate([1.0, 2.0, 3.0, 4.0, 5.0, 2.0], 0.1) == True
            assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True
            assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 0.5) == False

        check(has_close_elements)
        """

    func run() throws {
        let sandbox = try Sandbox()
        let workers = ProcessInfo.processInfo.activeProcessorCount
        // A bare interpreter start through the same spawn, without the isolation layer, for the overhead.
        let unconfined = Sandbox.unconfined(python: sandbox.python)
        let bare = (0..<20).map { _ -> Double in
            let t0 = Clock.now()
            _ = unconfined.run(program: "pass")
            return Clock.now() - t0
        }
        let single = (0..<20).map { _ -> Double in
            let t0 = Clock.now()
            _ = sandbox.run(program: "pass")
            return Clock.now() - t0
        }
        // Distinct programs (a numbered comment each): runBatch runs identical ones once.
        func rate(_ program: String) throws -> Double {
            let t0 = Clock.now()
            let results = sandbox.runBatch((0..<programs).map { (program: program + "\n# \($0)\n", stdin: "") }, workers: workers)
            guard results.allSatisfy(\.succeeded) else { throw ValidationError("a benchmark program failed: \(results.first { !$0.succeeded }!.status)") }
            return Double(programs) / (Clock.now() - t0)
        }
        let report = Report(isolation: sandbox.isolation.rawValue, workers: workers, bare_python_ms: 1000 * Clock.median(bare),
                            run_trivial_ms: 1000 * Clock.median(single), batch_trivial_per_second: try rate("pass"),
                            batch_humaneval_per_second: try rate(Self.humanEvalSized))
        if json { return try printJSON(report) }
        print("sandbox: \(report.isolation), \(workers) workers")
        print(String(format: "bare python3 -I -B program.py (no isolation): %.1f ms; one program in its own container (run): %.1f ms (%.1fx)",
                     report.bare_python_ms, report.run_trivial_ms, report.run_trivial_ms / report.bare_python_ms))
        print(String(format: "batch path (the code rewards'): %.0f trivial programs/s, %.0f HumanEval-sized test runs/s",
                     report.batch_trivial_per_second, report.batch_humaneval_per_second))
    }
}
