import Foundation

/// Errors of the fuzzer itself (not of the files it feeds).
struct FuzzError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The tallies of one format's run.
struct FuzzTally {
    var format: FuzzFormat
    var cases = 0, clean = 0, unclear = 0, accepted = 0, crashes = 0, hangs = 0
    /// The slowest case that finished, in seconds.
    var slowest = 0.0
    var failures: [String] = []

    var failed: Int { crashes + hangs + unclear }
}

/// The parent side of `grpo fuzz`: runs the cases of a format in a child process (`grpo fuzz FORMAT
/// --child`), one at a time with a time limit, and replaces the child when it dies (a crash) or
/// overruns (a hang), saving each failing case with a note to `failures` for reproduction.
struct FuzzRunner {
    let cases: FuzzCases
    let childArguments: [String]
    let timeout: Double
    let failures: URL
    /// A folder for the child's stderr.
    let scratch: URL
    let progress: (String) -> Void

    func run(count: Int) throws -> FuzzTally {
        var tally = FuzzTally(format: cases.format)
        var child: FuzzProcess? = nil
        let started = Date()
        var nextReport = max(count / 10, 1)
        for index in 0..<count {
            if child == nil { child = try FuzzProcess(arguments: childArguments, stderr: scratch.appendingPathComponent("child-stderr")) }
            guard let process = child else { break }
            let caseStart = Date()
            let answer = process.ask(index, timeout: timeout)
            tally.cases += 1
            switch answer {
            case .line(let fields) where fields.count >= 3 && fields[1] == String(index):
                tally.slowest = max(tally.slowest, Date().timeIntervalSince(caseStart))
                switch fields[2] {
                case "A": tally.accepted += 1
                case "E": tally.clean += 1
                default:
                    tally.unclear += 1
                    try record(index, kind: "unclear", note: "error that does not name the file: \(fields.dropFirst(3).joined())", &tally)
                }
            case .line(let fields):
                throw FuzzError("the child answered case \(index) with \(fields)")
            case .died(let status):
                tally.crashes += 1
                try record(index, kind: "crash", note: "\(status)\n\(process.stderrHead())", &tally)
                child = nil
            case .timedOut:
                process.stop()
                tally.hangs += 1
                try record(index, kind: "hang", note: "no answer within \(timeout) s", &tally)
                child = nil
            }
            if index + 1 == nextReport || index + 1 == count {
                progress(String(format: "%@: %d/%d cases, %d clean errors, %d accepted, %d crashes, %d hangs, %d unclear (%.1f s)",
                                cases.format.rawValue, index + 1, count, tally.clean, tally.accepted, tally.crashes, tally.hangs,
                                tally.unclear, Date().timeIntervalSince(started)))
                nextReport += max(count / 10, 1)
            }
        }
        child?.finish()
        return tally
    }

    /// Saves the bytes of a failing case and a note: what was mutated, what happened, how to replay.
    private func record(_ index: Int, kind: String, note: String, _ tally: inout FuzzTally) throws {
        try FileManager.default.createDirectory(at: failures, withIntermediateDirectories: true)
        let (bytes, description) = cases.bytes(index)
        let file = failures.appendingPathComponent("\(cases.format.rawValue)-seed\(cases.seed)-case\(index)-\(kind).\(cases.format.fileName)")
        try Data(bytes).write(to: file)
        let text = """
            \(kind): \(cases.format.rawValue) case \(index) (seed \(cases.seed)): \(description)
            replay: grpo fuzz \(cases.format.rawValue) --replay \(file.path)
            \(note)

            """
        try Data(text.utf8).write(to: file.appendingPathExtension("txt"))
        tally.failures.append(file.path)
        progress("\(kind): \(file.path): \(description)")
    }
}

/// A running `grpo fuzz --child`, asked one case at a time over pipes.
final class FuzzProcess {
    enum Answer {
        case line([String])
        case died(String)
        case timedOut
    }

    private let process = Process()
    private let input: FileHandle
    private let output: Int32
    private let stderrURL: URL
    private var buffer: [UInt8] = []

    init(arguments: [String], stderr: URL) throws {
        guard let executable = Bundle.main.executableURL else { throw FuzzError("cannot find the grpo executable") }
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        guard FileManager.default.createFile(atPath: stderr.path, contents: nil) else { throw FuzzError("cannot create \(stderr.path)") }
        stderrURL = stderr
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading.fileDescriptor
        signal(SIGPIPE, SIG_IGN)
    }

    /// Sends case `index` and waits up to `timeout` seconds for its result line.
    func ask(_ index: Int, timeout: Double) -> Answer {
        let request = Array("\(index)\n".utf8)
        let written = request.withUnsafeBytes { write(input.fileDescriptor, $0.baseAddress, $0.count) }
        guard written == request.count else { return died() }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if line.hasPrefix(FuzzChild.marker) { return .line(line.components(separatedBy: "\t")) }
                continue
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timedOut }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(left * 1000, 1000)) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return died() }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    private func died() -> Answer {
        process.waitUntilExit()
        cleanUp()
        let status = process.terminationStatus
        if process.terminationReason == .uncaughtSignal {
            return .died("killed by signal \(status) (\(String(cString: strsignal(status))))")
        }
        return .died("exited with status \(status)")
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        cleanUp()
    }

    /// Closes stdin (the child's loop ends) and waits for it.
    func finish() {
        try? input.close()
        process.waitUntilExit()
    }

    /// The first 4,000 characters the child wrote to stderr (a trap's message and the top of its
    /// stack: a child writes nothing else there).
    func stderrHead() -> String {
        let text = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return String(text.prefix(4000))
    }

    /// Removes the folders a killed child could not remove itself (its cases' and its scratch).
    private func cleanUp() {
        try? input.close()
        for name in ["grpo-fuzz-child-\(process.processIdentifier)", "grpo-fuzz-\(process.processIdentifier)"] {
            try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent(name))
        }
    }
}
