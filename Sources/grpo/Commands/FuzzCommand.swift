import ArgumentParser
import Foundation

/// `grpo fuzz FORMAT --cases N --seed S`: seeded mutations of valid inputs of each file format a user
/// hands us, loaded as the commands load them; every case must end in an error naming the file (or
/// load, when the mutation left it valid), never a crash or a hang.
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fuzz the file loaders with seeded mutations; count clean errors, accepted files, crashes and hangs.",
        discussion: """
            Formats: \(FuzzFormat.allCases.map(\.rawValue).joined(separator: ", ")), or all. Cases run in a child \
            process with a memory limit and a time limit each; a crash or hang is counted, its input saved to \
            --failures with a note, and the child restarted. Exits with status 1 if any case crashed, hung or gave \
            an error that does not name the file.
            """)

    @Argument(help: "The formats to fuzz, or all.") var formats: [String]
    @Option(help: "Cases per format.") var cases = 1000
    @Option(help: "Seed of the mutations (the same seed gives the same cases).") var seed: UInt64 = 1
    @Option(name: .customLong("seed-file"), help: "A valid file to mutate too (repeatable), e.g. a fixture.")
    var seedFiles: [String] = []
    @Option(help: "Where failing cases are saved.") var failures = "fuzz-failures"
    @Option(help: "Seconds a case may take before it counts as a hang.") var timeout = 5.0
    @Option(name: .customLong("memory-mb"), help: "Address-space limit of the child process, in MB.") var memoryMB = 1024
    @Option(help: "Load one saved case in this process (to see a crash's stack) instead of fuzzing.") var replay: String?
    @Flag(help: .hidden) var child = false

    func validate() throws {
        guard (1...10_000_000).contains(cases) else { throw ValidationError("--cases must be in 1...10000000, got \(cases)") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds, got \(timeout)") }
        guard (256...1 << 20).contains(memoryMB) else { throw ValidationError("--memory-mb must be in 256...1048576, got \(memoryMB)") }
        _ = try selected()
        if child || replay != nil, formats.count != 1 || formats == ["all"] {
            throw ValidationError("--child and --replay take one format")
        }
    }

    func selected() throws -> [FuzzFormat] {
        if formats == ["all"] { return FuzzFormat.allCases }
        return try formats.map { name in
            guard let format = FuzzFormat(rawValue: name) else {
                throw ValidationError("unknown format '\(name)'; formats: \(FuzzFormat.allCases.map(\.rawValue).joined(separator: ", ")), all")
            }
            return format
        }
    }

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let formats = try selected()
        if let replay { return try replayCase(replay, format: formats[0], scratch: scratch) }
        if child { return try FuzzChild.run(FuzzCases(format: formats[0], seed: seed, seedFiles: seedFiles, scratch: scratch), memoryMB: memoryMB) }
        var tallies: [FuzzTally] = []
        for format in formats {
            let fuzzCases = try FuzzCases(format: format, seed: seed, seedFiles: seedFiles, scratch: scratch)
            try checkSeeds(fuzzCases, scratch: scratch)
            let arguments = ["fuzz", format.rawValue, "--child", "--seed", "\(seed)", "--memory-mb", "\(memoryMB)"]
                + seedFiles.flatMap { ["--seed-file", $0] }
            let runner = FuzzRunner(cases: fuzzCases, childArguments: arguments, timeout: timeout,
                                    failures: URL(fileURLWithPath: failures), scratch: scratch, progress: { print($0) })
            tallies.append(try runner.run(count: cases))
        }
        print(summary(tallies))
        if tallies.contains(where: { $0.failed > 0 }) { throw ExitCode(1) }
    }

    /// Every generated seed must load unmutated, or the fuzzer would only test one error path; a seed
    /// file that does not load (a recipe that leaves keys to the demo, say) is mutated all the same.
    private func checkSeeds(_ fuzzCases: FuzzCases, scratch: URL) throws {
        let folder = scratch.appendingPathComponent("seeds-\(fuzzCases.format.rawValue)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try fuzzCases.format.prepare(folder)
        let generated = fuzzCases.inputs.count - seedFiles.count
        for (i, input) in fuzzCases.inputs.enumerated() {
            let outcome = FuzzOutcome.of(input, format: fuzzCases.format, folder: folder)
            guard outcome != .accepted else { continue }
            guard i >= generated else { throw FuzzError("\(fuzzCases.format.rawValue) seed input \(i) does not load: \(outcome)") }
            print("note: seed file \(seedFiles[i - generated]) does not load as \(fuzzCases.format.rawValue) (\(outcome)); mutated all the same")
        }
    }

    private func replayCase(_ path: String, format: FuzzFormat, scratch: URL) throws {
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ValidationError("--replay \(path): cannot read: \(error.localizedDescription)")
        }
        try format.prepare(scratch)
        switch FuzzOutcome.of(Array(bytes), format: format, folder: scratch) {
        case .accepted: print("accepted: \(path) loads as \(format.rawValue)")
        case .clean(let message): print("clean error: \(message)")
        case .unclear(let message): print("unclear error (does not name the file): \(message)")
        }
    }

    /// The table of the run: one row per format.
    func summary(_ tallies: [FuzzTally]) -> String {
        var lines = ["grpo fuzz \(formats.joined(separator: " ")) --cases \(cases) --seed \(seed)"
                     + seedFiles.map { " --seed-file \($0)" }.joined(),
                     "| format | cases | clean errors | accepted | crashes | hangs | unclear errors | slowest case |",
                     "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for t in tallies {
            lines.append("| \(t.format.rawValue) | \(t.cases) | \(t.clean) | \(t.accepted) | \(t.crashes) | \(t.hangs) | \(t.unclear) | "
                         + String(format: "%.2f s |", t.slowest))
        }
        let failed = tallies.flatMap(\.failures)
        if !failed.isEmpty { lines.append("failing cases (replay with grpo fuzz FORMAT --replay FILE):") }
        lines += failed.prefix(50).map { "  \($0)" }
        return lines.joined(separator: "\n")
    }
}
