/// What a sandboxed program may use. Defaults suit a test of a small function.
public struct SandboxLimits: Sendable, Equatable {
    /// CPU seconds (RLIMIT_CPU).
    public var cpuSeconds = 5
    /// Address space in bytes (RLIMIT_AS): an allocation past it fails (Python's MemoryError).
    public var memoryBytes = 1 << 30
    /// Largest file it may write, in bytes (RLIMIT_FSIZE).
    public var fileBytes = 16 << 20
    /// Open file descriptors (RLIMIT_NOFILE).
    public var openFiles = 64
    /// Processes of the sandbox's user (RLIMIT_NPROC): a fork bomb stops here.
    public var processes = 64
    /// Wall-clock seconds before the whole process tree is killed.
    public var wallSeconds = 10.0
    /// Bytes of stdout and of stderr kept; a program that prints more is killed (status outputLimit).
    public var outputBytes = 64 << 10

    public init() {}
}

/// How one program's run ended.
public enum SandboxStatus: Sendable, Equatable {
    /// It exited with this code (0: success).
    case exited(Int32)
    /// It was killed by this signal (e.g. SIGXCPU past its CPU seconds).
    case signaled(Int32)
    /// It ran past the wall-clock limit; the process tree was killed.
    case timedOut
    /// It printed more than the output cap; the process tree was killed.
    case outputLimit
    /// The sandbox could not run it (the message says why).
    case sandboxFailure(String)
}

/// One program's run: how it ended, its output (up to the cap), and how long it took.
public struct SandboxResult: Sendable, Equatable {
    public var status: SandboxStatus
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    /// Exited with code 0.
    public var succeeded: Bool { status == .exited(0) }

    /// The last non-empty line of stderr (Python's exception line).
    public var lastErrorLine: String? {
        stderr.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init)
    }

    /// Whether it ran out of memory: a MemoryError, or killed for its address space.
    public var ranOutOfMemory: Bool {
        lastErrorLine?.contains("MemoryError") == true || (status == .signaled(9) && stderr.contains("Cannot allocate memory"))
    }
}

import Foundation
