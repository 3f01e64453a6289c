import Foundation

/// The `grpo` binary next to the test bundle (SwiftPM builds every product into the same folder).
enum GRPOBinary {
    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("grpo")
    }

    /// Runs `grpo arguments...` (or `executable arguments...`: mpirun) to completion (with
    /// `environment` added to this process's); its exit status, stdout and stderr.
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    executable: URL = GRPOBinary.url) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
