import ArgumentParser
import Foundation
import Sandbox

/// `grpo sandbox run PROGRAM.py`: one program run the way the code rewards run it.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sandbox", abstract: "Run untrusted Python programs contained.",
                                                    subcommands: [SandboxRun.self])
}

struct SandboxRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run one Python program in the sandbox and print what a code reward sees.",
        discussion: "Isolation: bubblewrap (namespaces; read-only /usr; its own folder, /tmp, /proc; no network), else unshare, "
            + "else refused unless --unconfined; always resource limits, a wall-clock limit that kills the process tree, and an output cap.")

    @Argument(help: "The program (a .py file).") var program: String
    @Option(help: "A file whose contents are the program's stdin.") var stdin: String?
    @Option(help: "Wall-clock seconds before the process tree is killed.") var timeout = 10.0
    @Option(help: "CPU seconds.") var cpu = 5
    @Option(help: "Address space in MB.") var memory = 1024
    @Flag(help: "Run even if no isolation layer works here (limits only; contains nothing).") var unconfined = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard timeout > 0, cpu > 0, memory > 0 else { throw ValidationError("--timeout, --cpu and --memory must be positive") }
    }

    func run() throws {
        let source: String, input: String
        do {
            source = try String(contentsOf: URL(fileURLWithPath: program), encoding: .utf8)
            input = try stdin.map { try String(contentsOf: URL(fileURLWithPath: $0), encoding: .utf8) } ?? ""
        } catch {
            throw SandboxError.unreadable(file: program, reason: error.localizedDescription)
        }
        var limits = SandboxLimits()
        limits.wallSeconds = timeout
        limits.cpuSeconds = cpu
        limits.memoryBytes = memory << 20
        let sandbox = try Sandbox(limits: limits, allowUnconfined: unconfined)
        let result = sandbox.run(program: source, stdin: input)
        let status: String
        var code: Int32?
        switch result.status {
        case .exited(let c): status = c == 0 ? "passed" : (result.ranOutOfMemory ? "memory" : "runtime_error"); code = c
        case .signaled(let s): status = s == SIGXCPU ? "timeout" : "killed_by_signal_\(s)"
        case .timedOut: status = "timeout"
        case .outputLimit: status = "output_limit"
        case .sandboxFailure(let why): status = "sandbox_failure: \(why)"
        }
        if json {
            var object: [String: Any] = ["status": status, "seconds": result.seconds, "stdout": result.stdout, "stderr": result.stderr,
                                         "isolation": sandbox.isolation.rawValue]
            object["exit_code"] = code
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("status: \(status)" + (code.map { " (exit code \($0))" } ?? "") + String(format: ", %.3f s, isolation %@", result.seconds,
                                                                                         sandbox.isolation.rawValue))
            print("stdout (\(result.stdout.utf8.count) bytes):\n" + String(result.stdout.prefix(2000)))
            print("stderr (\(result.stderr.utf8.count) bytes):\n" + String(result.stderr.suffix(2000)))
        }
    }
}
