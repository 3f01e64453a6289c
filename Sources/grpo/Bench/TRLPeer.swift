import Foundation

/// Runs a peer's benchmark script (TRL, in Python) and reads the one JSON line it prints with
/// --json: `grpo bench grpo-step --trl` and `grpo bench ppo-step --trl` put its figures beside ours.
enum TRLPeer {
    /// The TRL comparison could not run (no script, Python failed, no report line).
    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// What the scripts print with --json.
    struct Report: Codable {
        let trl: String
        let torch: String
        let median_step_seconds: Double
        let completion_tokens_per_second: Double
        let peak_rss_mb: Double
        var gradient_checkpointing: Bool?
        var mean_completion_length: Double?
    }

    /// Runs the TRL script and reads its JSON line; errors name the command and show its stderr.
    static func run(python: String, script trlScript: String, arguments: [String] = []) throws -> Report {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, trlScript, "--json"] + arguments
        // stdout through a pipe (one JSON line); stderr (TRL's progress bars) to a file shown on failure.
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-bench-trl-\(getpid()).stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        let command = "\(python) \(trlScript) --json"
        guard process.terminationStatus == 0 else {
            let tail = String(decoding: errData.suffix(2000), as: UTF8.self)
            throw BenchError("--trl: `\(command)` exited with status \(process.terminationStatus):\n\(tail)")
        }
        guard let line = String(decoding: outData, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8)) else {
            throw BenchError("--trl: `\(command)` printed no JSON report line")
        }
        return report
    }
}
