import CKernels
import Foundation

/// The outcome of loading one fuzz case.
enum FuzzOutcome: Equatable {
    /// The mutated file is still valid and loads.
    case accepted
    /// A thrown error whose message names the file.
    case clean(String)
    /// A thrown error that does not name the file.
    case unclear(String)

    /// Loads `bytes` as `format` from `folder` (prepared with the files it needs beside it).
    static func of(_ bytes: [UInt8], format: FuzzFormat, folder: URL) -> FuzzOutcome {
        let file = folder.appendingPathComponent(format.fileName)
        do {
            try Data(bytes).write(to: file)
            try format.load(file, folder: folder)
            return .accepted
        } catch {
            let message = "\(error)"
            return message.contains(format.fileName) ? .clean(message) : .unclear(message)
        }
    }
}

/// The child side of `grpo fuzz`: limits its own memory, reads case numbers from stdin, one a line,
/// and answers each with a result line on stdout (line-buffered, see GRPO.main), so that a trap or a hang in a loader ends this
/// process (which the parent counts and replaces), never the fuzzer.
enum FuzzChild {
    /// Result lines start with this marker, so stray output of a loader cannot be taken for one.
    static let marker = "\u{1}R"

    static func run(_ cases: FuzzCases, memoryMB: Int) throws {
        guard ck_limit_memory(Int64(memoryMB) << 20) == 0 else {
            throw FuzzError("grpo fuzz --child: cannot limit the memory to \(memoryMB) MB: \(String(cString: strerror(errno)))")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-fuzz-child-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try cases.format.prepare(folder)
        while let line = readLine() {
            guard let index = Int(line) else { continue }
            let outcome = FuzzOutcome.of(cases.bytes(index).bytes, format: cases.format, folder: folder)
            switch outcome {
            case .accepted: print("\(marker)\t\(index)\tA")
            case .clean(let message): print("\(marker)\t\(index)\tE\t\(oneLine(message))")
            case .unclear(let message): print("\(marker)\t\(index)\tU\t\(oneLine(message))")
            }
        }
    }

    /// A message on one line, at most 300 characters.
    static func oneLine(_ message: String) -> String {
        let flat = message.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: " ")
        return flat.count > 300 ? String(flat.prefix(300)) + "..." : flat
    }
}
