import Foundation
import XCTest
@testable import Sandbox

/// The escape suite: each attack runs through `run` and through `runBatch`; each must be contained
/// (the program prints ESCAPED only if the attack worked), the test process must be unharmed, the
/// run must end within its limits, and nothing may be left behind (no process of the sandbox's user,
/// no temporary folder).
final class EscapeTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-escape-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func sandbox() throws -> Sandbox {
        var limits = SandboxLimits()
        limits.wallSeconds = 3
        limits.cpuSeconds = 2
        limits.memoryBytes = 512 << 20
        limits.outputBytes = 64 << 10
        limits.processes = 32
        do { return try Sandbox(limits: limits) } catch { throw XCTSkip("no sandbox isolation here: \(error)") }
    }

    /// Processes of the sandbox's users (its uid range when the tests run as root), other than zombies.
    func sandboxProcesses() -> [String] {
        guard getuid() == 0 else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { name -> String? in
            guard Int(name) != nil, let status = try? String(contentsOfFile: "/proc/\(name)/status", encoding: .utf8) else { return nil }
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first
            let state = status.split(separator: "\n").first { $0.hasPrefix("State:") } ?? ""
            return uid.flatMap { Int32($0) }.map(Sandbox.uidRange.contains) == true && !state.contains("Z") ? name : nil
        }
    }

    func sandboxFolders() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? [])
            .filter { $0.hasPrefix("grpo-sandbox-") })
    }

    /// Runs one attack both ways and checks what every attack must satisfy; returns the results.
    @discardableResult
    func attack(_ name: String, _ program: String, maxSeconds: Double = 12, mayEndItsServer: Bool = false,
                file: StaticString = #filePath, line: UInt = #line) throws
        -> [SandboxResult] {
        let s = try sandbox()
        let before = sandboxFolders()
        var results: [SandboxResult] = []
        for batch in [false, true] {
            let start = Date()
            let r = batch ? s.runBatch([(program, "")], workers: 1)[0] : s.run(program: program)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertFalse(r.stdout.contains("ESCAPED"), "\(name) (batch \(batch)) escaped: \(r.stdout.prefix(300))", file: file, line: line)
            XCTAssertLessThan(seconds, maxSeconds, "\(name) (batch \(batch)) ran \(seconds) s", file: file, line: line)
            if case .sandboxFailure(let why) = r.status, !(batch && mayEndItsServer) {
                XCTFail("\(name) (batch \(batch)): sandbox failure \(why)", file: file, line: line)
            }
            results.append(r)
        }
        // Nothing left behind: no process of the sandbox's user, no folder.
        var left = sandboxProcesses()
        for _ in 0..<20 where !left.isEmpty {
            usleep(100_000)
            left = sandboxProcesses()
        }
        XCTAssertEqual(left, [], "\(name): processes left behind", file: file, line: line)
        XCTAssertEqual(sandboxFolders().subtracting(before), [], "\(name): folders left behind", file: file, line: line)
        return results
    }

    func testInfiniteLoop() throws {
        for r in try attack("infinite loop", "while True:\n    pass") {
            XCTAssertTrue([.timedOut, .signaled(SIGXCPU), .signaled(SIGKILL)].contains(r.status), "\(r.status)")
        }
    }

    func testForkBomb() throws {
        try attack("fork bomb", """
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """)
    }

    func testAllocatingTenGigabytes() throws {
        for r in try attack("10 GB", "x = bytearray(10 * 1024 ** 3)\nprint('ESCAPED')") { XCTAssertTrue(r.ranOutOfMemory, "\(r)") }
    }

    /// The project tree and the home folder are out of reach under any layer (not mounted, or not
    /// writable by nobody); the host's /tmp only under bubblewrap (unshare leaves the file system).
    func testWritingOutsideItsFolder() throws {
        let project = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var targets = [project.appendingPathComponent("escaped.txt").path, NSHomeDirectory() + "/grpo-escaped-\(UUID().uuidString)"]
        if try sandbox().isolation == .bubblewrap {
            targets += ["/tmp/grpo-escaped-\(UUID().uuidString)", dir.appendingPathComponent("escaped.txt").path]
        }
        let program = "paths = \(targets.map { "'\($0)'" })\n" + """
            for p in paths:
                try:
                    open(p, 'w').write('x')
                except OSError:
                    pass
            """
        try attack("writing outside", program)
        for path in targets { XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(path) was written") }
    }

    func testReadingSecrets() throws {
        setenv("GRPO_TEST_SECRET", "hunter2", 1)
        defer { unsetenv("GRPO_TEST_SECRET") }
        let secretFile = NSHomeDirectory() + "/.grpo-secret-\(UUID().uuidString)"
        try "hunter3".write(toFile: secretFile, atomically: true, encoding: .utf8)
        chmod(secretFile, 0o644)
        defer { try? FileManager.default.removeItem(atPath: secretFile) }
        try attack("secrets", """
            import os
            if 'hunter2' in repr(dict(os.environ)):
                print('ESCAPED env')
            try:
                if 'hunter3' in open('\(secretFile)').read():
                    print('ESCAPED file')
            except OSError:
                pass
            """)
    }

    func testConnectingToALocalSocket() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertEqual(bound, 0)
        listen(listener, 4)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        try attack("socket", """
            import socket
            try:
                socket.create_connection(('127.0.0.1', \(port)), timeout=1)
                print('ESCAPED')
            except OSError:
                pass
            """)
    }

    /// In a batch the parent is the container's server: killing it ends the batch (that program gets a
    /// sandbox failure; a new container runs the rest), never the trainer.
    func testKillingItsParent() throws {
        let program = """
            import os, signal
            for pid in (os.getppid(), \(getpid()), 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            """
        try attack("kill parent", program, mayEndItsServer: true)
        XCTAssertEqual(kill(getpid(), 0), 0, "the test process is alive")
    }

    func testPrintingAGigabyte() throws {
        for r in try attack("1 GB of output", "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)") {
            XCTAssertEqual(r.status, .outputLimit)
            XCTAssertLessThanOrEqual(r.stdout.utf8.count, 64 << 10)
        }
    }

    func testADetachedChildOutlivingTheTimeout() throws {
        try attack("detached child", """
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                os._exit(0)
            while True:
                time.sleep(1)
            """)
    }

    func testReadingTheTrainersProc() throws {
        try attack("trainer's /proc", """
            import os
            try:
                for name in os.listdir('/proc'):
                    if name.isdigit():
                        try:
                            if b'xctest' in open('/proc/%s/cmdline' % name, 'rb').read() or name == '\(getpid())':
                                print('ESCAPED', name)
                        except OSError:
                            pass
            except OSError:
                pass
            """)
    }
}
