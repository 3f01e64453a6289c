import CSandbox
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs untrusted Python programs (what a model wrote) contained, one at a time or many at once
/// (`runAll`). Each run gets a fresh temporary folder, removed afterwards, an empty environment and
/// `python3 -I` (no user site packages, no PYTHON* variables), and these layers:
///
/// - **bubblewrap** (Debian's `bubblewrap`), when it works here: new user, PID, network, IPC, UTS and
///   mount namespaces; the program sees read-only /usr (Python and its libraries), a private /tmp,
///   a new /proc of its own PID namespace, a minimal /dev, and its folder at /sandbox, read-write:
///   not the home folder, the project, the models or the trainer's files; no network (only its own
///   loopback); it dies with the trainer (--die-with-parent).
/// - else **unshare** (util-linux): new user, PID, network, IPC and UTS namespaces and its own /proc,
///   but the host's file system stays visible (read-only where Unix permissions say so).
/// - always: resource limits (CPU seconds, address space, file size, open files, processes),
///   a wall-clock limit after which the whole process tree is killed (the PID namespace collapses
///   with its first process, so a detached grandchild dies too), an output cap, no core dumps, and,
///   when the trainer runs as root, the uid and gid of `nobody`.
///
/// With neither layer it refuses to run, unless `allowUnconfined` (then only the limits and the
/// process-group kill apply). This is process isolation on one kernel, not a virtual machine.
public final class Sandbox: Sendable {
    public enum Isolation: String, Sendable {
        case bubblewrap, unshare, unconfined
    }

    public let limits: SandboxLimits
    public let isolation: Isolation
    public let python: String
    let tool: String?

    /// Chooses the strongest isolation that works here (a probe run of `python -I -c pass`).
    public init(limits: SandboxLimits = SandboxLimits(), python: String = "/usr/bin/python3", allowUnconfined: Bool = false) throws {
        self.limits = limits
        self.python = python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SandboxError.noIsolation(reason: "no Python at \(python)")
        }
        var reasons: [String] = []
        for (isolation, path) in [(Isolation.bubblewrap, "/usr/bin/bwrap"), (.unshare, "/usr/bin/unshare")] {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                reasons.append("no \(path)")
                continue
            }
            let probe = Sandbox(limits: limits, python: python, isolation: isolation, tool: path).run(program: "pass")
            if probe.succeeded {
                self.isolation = isolation
                tool = path
                return
            }
            reasons.append("\(path) does not work here: \(probe.status) \(probe.lastErrorLine ?? "")")
        }
        guard allowUnconfined else { throw SandboxError.noIsolation(reason: reasons.joined(separator: "; ")) }
        isolation = .unconfined
        tool = nil
    }

    /// Without any isolation layer: limits and the process-group kill only. For measuring what the
    /// layers cost (grpo bench sandbox); it contains nothing.
    public static func unconfined(limits: SandboxLimits = SandboxLimits(), python: String = "/usr/bin/python3") -> Sandbox {
        Sandbox(limits: limits, python: python, isolation: .unconfined, tool: nil)
    }

    init(limits: SandboxLimits, python: String, isolation: Isolation, tool: String?) {
        self.limits = limits
        self.python = python
        self.isolation = isolation
        self.tool = tool
    }

    /// The uids programs run as when the trainer is root: one of its own per run, from this range,
    /// so a fork bomb's processes (counted per uid by RLIMIT_NPROC) never block the next run.
    public static let uidRange: Range<Int32> = 3_100_000..<3_101_000
    private static let nextUID = UIDCounter()

    /// The uid and gid for one run: a fresh one from `uidRange` when the trainer is root, else the
    /// trainer's own (-1: unchanged).
    static func identity() -> (uid: Int32, gid: Int32) {
        guard getuid() == 0 else { return (-1, -1) }
        let uid = uidRange.lowerBound + nextUID.next() % Int32(uidRange.count)
        return (uid, uid)
    }

    /// The command line that runs `program.py` in `folder` under this isolation.
    func arguments(folder: String) -> [String] {
        let run = [python, "-I", "-B", "program.py"]
        switch isolation {
        case .bubblewrap:
            var args = [tool ?? "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--hostname", "sandbox",
                        "--ro-bind", "/usr", "/usr"]
            for dir in ["/lib", "/lib64", "/bin", "/sbin"] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: dir) {
                    args += ["--symlink", target, dir]
                } else if FileManager.default.fileExists(atPath: dir) {
                    args += ["--ro-bind", dir, dir]
                }
            }
            return args + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", folder, "/sandbox", "--chdir", "/sandbox",
                           "--setenv", "HOME", "/sandbox", "--setenv", "PATH", "/usr/bin:/bin", "--"] + run
        case .unshare:
            return [tool ?? "unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--net", "--ipc", "--uts",
                    "--mount", "--mount-proc", "--"] + run
        case .unconfined:
            return run
        }
    }

    /// Runs one program with `stdin`; never throws: a failure to run is a `.sandboxFailure`.
    public func run(program: String, stdin: String = "") -> SandboxResult {
        let start = DispatchTime.now()
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        let identity = Self.identity()
        let folder: URL
        do { folder = try Self.makeFolder(program: program, stdin: stdin, identity: identity) } catch {
            return SandboxResult(status: .sandboxFailure("cannot make the program's folder: \(error)"), stdout: "", stderr: "", seconds: seconds())
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        var result = execute(arguments(folder: folder.path), folder: folder, identity: identity)
        result.seconds = seconds()
        return result
    }

    /// Runs many programs, `workers` at a time (default: the online cores); results in order.
    public func runAll(_ jobs: [(program: String, stdin: String)], workers: Int = ProcessInfo.processInfo.activeProcessorCount)
        -> [SandboxResult] {
        let results = ResultSlots(count: jobs.count)
        let next = NextIndex()
        DispatchQueue.concurrentPerform(iterations: max(1, min(workers, jobs.count))) { _ in
            while let i = next.take(below: jobs.count) { results.set(i, run(program: jobs[i].program, stdin: jobs[i].stdin)) }
        }
        return results.values
    }

    /// A fresh folder holding program.py and stdin.txt, readable and writable by the program's user.
    static func makeFolder(program: String, stdin: String, identity: (uid: Int32, gid: Int32)) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-sandbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        try Data(program.utf8).write(to: folder.appendingPathComponent("program.py"))
        try Data(stdin.utf8).write(to: folder.appendingPathComponent("stdin.txt"))
        if identity.uid >= 0 {
            for path in [folder.path, folder.appendingPathComponent("program.py").path, folder.appendingPathComponent("stdin.txt").path] {
                guard chown(path, uid_t(identity.uid), gid_t(identity.gid)) == 0 else { throw SandboxError.unreadable(file: path, reason: "chown failed") }
            }
        }
        chmod(folder.path, 0o700)
        return folder
    }

    /// Spawns the command, reads its output up to the cap and the wall-clock limit, and reaps it.
    func execute(_ arguments: [String], folder: URL, identity: (uid: Int32, gid: Int32)) -> SandboxResult {
        func failure(_ why: String) -> SandboxResult { SandboxResult(status: .sandboxFailure(why), stdout: "", stderr: "", seconds: 0) }
        let stdinFD = open(folder.appendingPathComponent("stdin.txt").path, O_RDONLY | O_CLOEXEC)
        guard stdinFD >= 0 else { return failure("cannot open stdin.txt") }
        defer { close(stdinFD) }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard sb_pipe(&outPipe) == 0 else { return failure("pipe: \(String(cString: strerror(errno)))") }
        guard sb_pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            return failure("pipe: \(String(cString: strerror(errno)))")
        }
        let env = ["PATH=/usr/bin:/bin", "HOME=\(folder.path)", "LANG=C.UTF-8"]
        let l = limits
        let cLimits = sb_limits(cpu_seconds: l.cpuSeconds, address_space: l.memoryBytes,
                                file_size: l.fileBytes, open_files: l.openFiles, processes: l.processes)
        let pid = withCStrings(arguments) { argv in
            withCStrings(env) { envp in
                sb_spawn(arguments[0], argv, envp, stdinFD, outPipe[1], errPipe[1], folder.path, cLimits, identity.uid, identity.gid)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard pid > 0 else { return failure("fork: \(String(cString: strerror(-pid)))") }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(l.wallSeconds * 1e9)
        var out = OutputBuffer(cap: l.outputBytes), err = OutputBuffer(cap: l.outputBytes)
        var open = (out: true, err: true)
        var stopped: SandboxStatus?
        while open.out || open.err {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline { stopped = .timedOut; break }
            var fds = [pollfd(fd: open.out ? outPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open.err ? errPipe[0] : -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, Int32(min((deadline - now) / 1_000_000 + 1, 100)))
            if ready < 0 && errno != EINTR { stopped = .sandboxFailure("poll: \(String(cString: strerror(errno)))"); break }
            if fds[0].revents != 0 { open.out = out.read(outPipe[0]) }
            if fds[1].revents != 0 { open.err = err.read(errPipe[0]) }
            if out.overflowed || err.overflowed { stopped = .outputLimit; break }
        }
        if stopped != nil {
            kill(-pid, SIGKILL)  // the session: the isolation tool, and the program when unconfined
            kill(pid, SIGKILL)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if let stopped { return SandboxResult(status: stopped, stdout: out.text, stderr: err.text, seconds: 0) }
        var exit = status & 0x7F == 0 ? SandboxStatus.exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
        // bubblewrap and unshare exit with 128 + the signal that killed the program.
        if isolation != .unconfined, case .exited(let code) = exit, code > 128 { exit = .signaled(code - 128) }
        if exit == .exited(126) && out.text.isEmpty && err.text.isEmpty { return failure("the sandboxed process could not be set up (limits or uid)") }
        return SandboxResult(status: exit, stdout: out.text, stderr: err.text, seconds: 0)
    }
}

/// Up to `cap` bytes of a stream; reading past it marks it overflowed.
struct OutputBuffer {
    let cap: Int
    var bytes: [UInt8] = []
    var overflowed = false

    init(cap: Int) { self.cap = cap }

    /// Reads what is available; false at end of stream.
    mutating func read(_ fd: Int32) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return n < 0 && (errno == EINTR || errno == EAGAIN) }
        let room = max(cap - bytes.count, 0)
        bytes += chunk.prefix(min(n, room))
        if n > room { overflowed = true }
        return true
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// NULL-terminated C string arrays for exec.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// A counter shared by threads.
final class UIDCounter: @unchecked Sendable {
    private var value: Int32 = 0
    private let lock = NSLock()
    func next() -> Int32 { lock.withLock { defer { value &+= 1 }; return value & 0x3FFF_FFFF } }
}

/// Result slots filled from several threads.
final class ResultSlots: @unchecked Sendable {
    private var slots: [SandboxResult?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: SandboxResult) { lock.withLock { slots[i] = r } }
    var values: [SandboxResult] {
        lock.withLock { slots.map { $0 ?? SandboxResult(status: .sandboxFailure("not run"), stdout: "", stderr: "", seconds: 0) } }
    }
}

/// The next job index for a pool's workers.
final class NextIndex: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()
    func take(below count: Int) -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
