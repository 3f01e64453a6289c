import Foundation
import Tasks
import XCTest

/// Kills a training run with SIGKILL at seeded random moments, resumes it each time, and compares
/// the result with an uninterrupted run of the same settings: metrics.jsonl value for value
/// (wall-clock figures aside) and every file of the final checkpoint byte for byte (weights, AdamW
/// moments, value model, trainer_state.json).
///
/// Half the kills land at a random moment after a chosen step was logged, half the instant a
/// chosen checkpoint's temporary folder appears (during its write). Checkpoints are written every
/// step, so most moments fall near one.
struct KillHarness {
    /// `grpo train <trainer>` and its `--set` arguments, without output_dir and max_steps.
    let trainer: String
    let settings: [String]
    let maxSteps: Int
    let scratch: URL
    /// Names the run's folders (default: the trainer).
    var label = ""

    struct Outcome {
        var kills = 0
        var duringWrites = 0
        /// Whether the killed-and-resumed run ended equal to the uninterrupted one.
        var equal = false
        var mismatch = ""
    }

    func arguments(output: URL, resume: Bool) -> [String] {
        ["train", trainer] + (settings + ["output_dir=\(output.path)", "max_steps=\(maxSteps)", "save_steps=1",
                                          "save_total_limit=2", "logging_steps=1"]).flatMap { ["--set", $0] }
            + (resume ? ["--resume"] : [])
    }

    /// Runs the uninterrupted reference, then a run killed `kills` times and finished by a last resume.
    func run(kills: Int, seed: UInt64) throws -> Outcome {
        let name = label.isEmpty ? trainer : label
        let straight = scratch.appendingPathComponent("\(name)-straight"), killed = scratch.appendingPathComponent("\(name)-killed")
        let reference = try GRPOBinary.run(arguments(output: straight, resume: false))
        guard reference.status == 0 else { throw HarnessError.failed("uninterrupted \(trainer) run: \(reference.err)") }

        var rng = SeededRandom(seed: seed), outcome = Outcome()
        var step = 0
        for k in 0..<kills {
            let resume = !Self.checkpoints(killed).isEmpty
            if !resume { try? FileManager.default.removeItem(at: killed) }  // killed before its first checkpoint: start over
            // The target: a step past the latest checkpoint, leaving room for the kills still to come.
            let room = maxSteps - 1 - step - (kills - 1 - k)
            guard room >= 1 else { break }
            let target = step + rng.int(in: 1...room)
            let duringWrite = (k + Int(seed % 2)) % 2 == 1
            let process = Process()
            process.executableURL = GRPOBinary.url
            process.arguments = arguments(output: killed, resume: resume)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = Double(rng.int(in: 0...20_000)) / 1e6
            let deadline = Date().addingTimeInterval(120)
            var fired = false
            while process.isRunning && Date() < deadline {
                if duringWrite ? Self.writing(killed, step: target) : Self.loggedSteps(killed) >= target {
                    if !duringWrite { usleep(UInt32(delay * 1e6)) }
                    kill(process.processIdentifier, SIGKILL)
                    fired = true
                    break
                }
                usleep(500)
            }
            process.waitUntilExit()
            guard fired, process.terminationReason == .uncaughtSignal else {
                throw HarnessError.failed("\(trainer): run \(k + 1) ended (status \(process.terminationStatus)) before the kill at step \(target)")
            }
            outcome.kills += 1
            outcome.duringWrites += duringWrite ? 1 : 0
            step = Self.checkpoints(killed).max() ?? 0
        }
        let last = try GRPOBinary.run(arguments(output: killed, resume: !Self.checkpoints(killed).isEmpty))
        guard last.status == 0 else { throw HarnessError.failed("\(trainer): the last resume failed: \(last.err)") }
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: killed.path)) ?? []).filter { $0.hasPrefix(".checkpoint-") }
        if !leftovers.isEmpty { outcome.mismatch = "unfinished checkpoint folders left after the resumes: \(leftovers)" }
        let a = try Self.metricLines(straight), b = try Self.metricLines(killed)
        if !outcome.mismatch.isEmpty {
        } else if a != b {
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            let keys = line < min(a.count, b.count) ? Set(a[line].keys).union(b[line].keys).filter { a[line][$0] != b[line][$0] }.sorted() : []
            outcome.mismatch = "metrics.jsonl: \(a.count) lines uninterrupted, \(b.count) killed; line \(line + 1) differs in "
                + keys.map { "\($0) \(a[line][$0].map { "\($0)" } ?? "-") vs \(b[line][$0].map { "\($0)" } ?? "-")" }.joined(separator: ", ")
        } else if let file = try Self.differingFile(straight.appendingPathComponent("checkpoint-\(maxSteps)"),
                                                    killed.appendingPathComponent("checkpoint-\(maxSteps)")) {
            outcome.mismatch = "checkpoint-\(maxSteps)/\(file) differs"
        }
        outcome.equal = outcome.mismatch.isEmpty
        return outcome
    }

    static func checkpoints(_ output: URL) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).compactMap {
            $0.hasPrefix("checkpoint-") ? Int($0.dropFirst("checkpoint-".count)) : nil
        }
    }

    /// Whether checkpoint-<step> is being written (its temporary folder exists).
    static func writing(_ output: URL, step: Int) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).contains { $0.hasPrefix(".checkpoint-\(step).tmp-") }
    }

    static func loggedSteps(_ output: URL) -> Int {
        guard let data = try? Data(contentsOf: output.appendingPathComponent("metrics.jsonl")) else { return 0 }
        return data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    /// metrics.jsonl lines without the wall-clock figures.
    static func metricLines(_ output: URL) throws -> [[String: Double]] {
        try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return object.compactMapValues { $0 as? Double }.filter { key, _ in
                !["step_time", "tokens_per_second", "wall_time", "train_time", "memory/peak_rss_mb"].contains(key) && !key.hasPrefix("time/")
            }
        }
    }

    /// The first file (relative path) whose bytes differ between two folders, or that one lacks.
    static func differingFile(_ a: URL, _ b: URL) throws -> String? {
        let fm = FileManager.default
        let names = Set((fm.subpaths(atPath: a.path) ?? []) + (fm.subpaths(atPath: b.path) ?? [])).sorted()
        guard !names.isEmpty else { return "(both empty)" }
        for name in names {
            let x = a.appendingPathComponent(name), y = b.appendingPathComponent(name)
            var folder: ObjCBool = false
            if fm.fileExists(atPath: x.path, isDirectory: &folder), folder.boolValue { continue }
            guard let dx = fm.contents(atPath: x.path), let dy = fm.contents(atPath: y.path) else { return name }
            if name.hasSuffix("trainer_state.json") {
                // The runs differ in output_dir and their clocks alone.
                guard try comparableState(dx) == comparableState(dy) else { return name }
            } else if dx != dy {
                return name
            }
        }
        return nil
    }

    static func comparableState(_ data: Data) throws -> NSDictionary {
        var state = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        var config = state["config"] as? [String: Any] ?? [:]
        config["output_dir"] = nil
        state["config"] = config
        state["clocks"] = nil
        return state as NSDictionary
    }

    enum HarnessError: Error, CustomStringConvertible {
        case failed(String)
        var description: String { if case .failed(let s) = self { return s }; return "" }
    }
}
