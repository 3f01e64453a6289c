import CSandbox
import Foundation
import Synchronization
import Tasks

/// An external reward: a long-lived subprocess (`command:PATH [ARGS]`) that reads one JSON line per
/// batch, `{"prompts": [...], "completions": [...], "columns": [{...}, ...]}` (the rows' columns, the
/// prompt among them), and writes one, `{"rewards": [number or null, ...]}`. A call waits at most
/// `timeout` seconds (then the process is killed and the call fails); a process that dies is
/// restarted once per call; output that is not such a line is an error naming the command.
public final class CommandReward: Reward, @unchecked Sendable {
    public let name: String
    public let weight: Double
    public let arguments: [String]
    public let timeout: Double
    private let state = Mutex<Running?>(nil)

    struct Running {
        /// The command runs in its own process group (pid = group id), so a kill reaches its children too.
        let pid: pid_t
        let input: Int32
        let output: Int32
        var buffer: [UInt8] = []
    }

    /// `command` is the program and its arguments, split at spaces.
    public init(command: String, weight: Double = 1, timeout: Double = 30) throws {
        arguments = command.split(separator: " ").map(String.init)
        guard let program = arguments.first, FileManager.default.isExecutableFile(atPath: program) else {
            throw RewardError.invalidOption(reward: "command:\(command)", option: "command", expected: "an executable file",
                                            actual: "'\(arguments.first ?? "")'")
        }
        name = "command:" + URL(fileURLWithPath: program).lastPathComponent
        self.weight = weight
        self.timeout = timeout
    }

    deinit { state.withLock { $0.map { Self.stop($0) } } }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        let request: JSONValue = .object([
            "prompts": .array(columns.map { $0["prompt"] ?? .null }), "completions": .array(completions.map { .string($0) }),
            "columns": .array(columns.map { .object($0) }),
        ])
        var line = try JSONEncoder().encode(request)
        line.append(0x0A)
        return try state.withLock { running in
            // A process that died (or was killed after a timeout) is restarted once for this call.
            for attempt in 0..<2 {
                if running == nil { running = try start() }
                guard var current = running else { continue }
                do {
                    let reply = try exchange(line, with: &current)
                    running = current
                    return try parse(reply, count: completions.count)
                } catch let error as CommandFailure {
                    Self.stop(current)
                    running = nil
                    if case .died = error, attempt == 0 { continue }
                    throw error.reward(name)
                }
            }
            throw RewardError.commandFailed(reward: name, reason: "it died twice")
        }
    }

    enum CommandFailure: Error {
        case died(String)
        case timedOut(Double)

        func reward(_ name: String) -> RewardError {
            switch self {
            case .died(let why): .commandFailed(reward: name, reason: why)
            case .timedOut(let seconds): .timedOut(reward: name, seconds: seconds)
            }
        }
    }

    func start() throws -> Running {
        // A write to a command that died must fail with EPIPE, not end the trainer with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        if let error = [sb_pipe(&toChild), sb_pipe(&fromChild)].first(where: { $0 != 0 }) {
            for fd in toChild + fromChild where fd > 0 { close(fd) }
            throw RewardError.commandFailed(reward: name, reason: "pipe: \(String(cString: strerror(-error)))")
        }
        var actions = posix_spawn_file_actions_t(), attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer { posix_spawn_file_actions_destroy(&actions); posix_spawnattr_destroy(&attributes) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGXFSZ)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(toChild[0]); close(fromChild[1])
        guard status == 0 else {
            close(toChild[1]); close(fromChild[0])
            throw RewardError.commandFailed(reward: name, reason: "cannot start: \(String(cString: strerror(status)))")
        }
        _ = fcntl(toChild[1], F_SETFL, fcntl(toChild[1], F_GETFL) | O_NONBLOCK)
        return Running(pid: pid, input: toChild[1], output: fromChild[0])
    }

    static func stop(_ running: Running) {
        kill(-running.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(running.pid, &status, 0) < 0 && errno == EINTR {}
        close(running.input)
        close(running.output)
    }

    /// The command's exit, if it has exited (reaping it), for messages.
    static func exitDescription(_ running: Running) -> String {
        var status: Int32 = 0
        guard waitpid(running.pid, &status, WNOHANG) == running.pid else { return "its stdout closed" }
        let signal = status & 0x7f
        return signal == 0 ? "status \((status >> 8) & 0xff)" : "signal \(signal)"
    }

    /// Writes the request and reads one line back, both within the timeout.
    func exchange(_ request: Data, with running: inout Running) throws -> Data {
        let deadline = Date().addingTimeInterval(timeout)
        var written = 0
        while true {
            if written == request.count, let newline = running.buffer.firstIndex(of: 0x0A) {
                let line = Data(running.buffer[..<newline])
                running.buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw CommandFailure.timedOut(timeout) }
            var fds = [pollfd(fd: running.output, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: written < request.count ? running.input : -1, events: Int16(POLLOUT), revents: 0)]
            guard poll(&fds, 2, Int32(min(left * 1000, 1000)) + 1) >= 0 else { continue }
            if fds[1].revents != 0 {
                let n = request.withUnsafeBytes { write(running.input, $0.baseAddress! + written, request.count - written) }
                if n < 0 && errno != EAGAIN && errno != EINTR { throw CommandFailure.died("it exited before reading the batch (\(Self.exitDescription(running)))") }
                written += max(n, 0)
            }
            if fds[0].revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let n = chunk.withUnsafeMutableBytes { read(running.output, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard n > 0 else { throw CommandFailure.died("it exited (\(Self.exitDescription(running)))") }
                running.buffer += chunk.prefix(n)
                guard running.buffer.count < 64 << 20 else { throw CommandFailure.died("it wrote more than 64 MB without a newline") }
            }
        }
    }

    func parse(_ line: Data, count: Int) throws -> [Double?] {
        func malformed(_ why: String) -> RewardError {
            .commandFailed(reward: name, reason: "\(why); its line: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw malformed("expected one JSON object {\"rewards\": [...]}")
        }
        guard let rewards = object["rewards"] as? [Any] else { throw malformed("no \"rewards\" list") }
        return try rewards.map { value in
            if value is NSNull { return nil }
            guard let number = value as? NSNumber, !(String(cString: number.objCType) == "c") else { throw malformed("a reward is not a number or null") }
            return number.doubleValue
        }
    }
}
