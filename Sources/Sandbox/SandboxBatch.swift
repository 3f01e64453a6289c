import Dispatch
import Foundation

extension Sandbox {
    /// Runs many programs in few isolated containers: each of `workers` containers (the same
    /// isolation as `run`) holds one Python process that forks a child per program. Each child runs
    /// in its own session with the same resource limits, its stdin from its case, its stdout and
    /// stderr captured up to the cap, and is killed (with its process group) at the wall-clock limit;
    /// the container's PID namespace collapses at the end, taking any detached grandchild with it.
    /// A program costs a fork, not an interpreter start and a container (about 2 ms against 15-30).
    /// Children close every descriptor of the server before they run, so they cannot write its
    /// results; one that kills the server loses the batch's remaining results (sandbox failures),
    /// never the trainer.
    public func runBatch(_ jobs: [(program: String, stdin: String)], workers: Int = ProcessInfo.processInfo.activeProcessorCount)
        -> [SandboxResult] {
        // Identical jobs (a group's repeated completions) run once and share the result.
        var unique: [(program: String, stdin: String)] = [], slot: [Int] = [], seen: [String: Int] = [:]
        for job in jobs {
            let key = job.program + "\u{0}" + job.stdin
            if let known = seen[key] { slot.append(known); continue }
            seen[key] = unique.count
            slot.append(unique.count)
            unique.append(job)
        }
        let results = runDistinct(unique, workers: workers)
        return slot.map { results[$0] }
    }

    func runDistinct(_ jobs: [(program: String, stdin: String)], workers: Int) -> [SandboxResult] {
        guard !jobs.isEmpty else { return [] }
        let shares = (0..<max(1, min(workers, jobs.count))).map { w in Array(stride(from: w, to: jobs.count, by: max(1, min(workers, jobs.count)))) }
        let results = ResultSlots(count: jobs.count)
        DispatchQueue.concurrentPerform(iterations: shares.count) { w in
            let share = shares[w]
            for (i, r) in zip(share, serve(share.map { jobs[$0] })) { results.set(i, r) }
        }
        return results.values
    }

    /// Containers serving `jobs` in order: when a program kills its server, it is charged with a
    /// sandbox failure and a new container serves the programs after it.
    func serve(_ jobs: [(program: String, stdin: String)]) -> [SandboxResult] {
        var results: [SandboxResult] = []
        while results.count < jobs.count {
            let (served, died) = serveOnce(Array(jobs[results.count...]))
            results += served
            if let died, results.count < jobs.count {
                results.append(SandboxResult(status: .sandboxFailure("the program ended its batch's server (\(died))"), stdout: "", stderr: "",
                                             seconds: 0))
            }
        }
        return results
    }

    /// One container serving `jobs` in order: the results it returned, and why it ended early if it did.
    func serveOnce(_ jobs: [(program: String, stdin: String)]) -> (results: [SandboxResult], diedEarly: String?) {
        let identity = Self.identity()
        let folder: URL
        do {
            folder = try Self.makeFolder(program: Self.server, stdin: "", identity: identity)
            // The programs travel in one file; the server writes each to program.py and stdin.txt before it runs it.
            let l = limits
            let plan: [String: Any] = ["programs": jobs.map(\.program), "stdins": jobs.map(\.stdin), "cpu": l.cpuSeconds, "memory": l.memoryBytes,
                                       "file": l.fileBytes, "files": l.openFiles, "wall": l.wallSeconds, "cap": l.outputBytes]
            let planFile = folder.appendingPathComponent("plan.json")
            try JSONSerialization.data(withJSONObject: plan).write(to: planFile)
            if identity.uid >= 0 { chown(planFile.path, uid_t(identity.uid), gid_t(identity.gid)) }
        } catch {
            return (jobs.map { _ in SandboxResult(status: .sandboxFailure("cannot make the batch's folder: \(error)"), stdout: "", stderr: "",
                                                  seconds: 0) }, nil)
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        // The server itself gets the limits scaled to the batch; each child sets its own.
        var serverLimits = limits
        serverLimits.cpuSeconds = limits.cpuSeconds * jobs.count + 10
        serverLimits.wallSeconds = limits.wallSeconds * Double(jobs.count) + 10
        serverLimits.outputBytes = jobs.count * (2 * limits.outputBytes + 4096) + 65_536
        serverLimits.processes = limits.processes
        let server = Sandbox(limits: serverLimits, python: python, isolation: isolation, tool: tool)
        var argumentsList = server.arguments(folder: folder.path)
        if let i = argumentsList.lastIndex(of: "-B") { argumentsList.insert("-S", at: i) }
        let outcome = server.execute(argumentsList, folder: folder, identity: identity)
        var results: [SandboxResult] = []
        for line in outcome.stdout.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let i = object["i"] as? Int,
                  i == results.count else { continue }
            let status: SandboxStatus
            if object["timed_out"] as? Bool == true { status = .timedOut }
            else if object["output_limit"] as? Bool == true { status = .outputLimit }
            else if let signal = object["signal"] as? Int { status = .signaled(Int32(signal)) }
            else { status = .exited(Int32(object["code"] as? Int ?? -1)) }
            results.append(SandboxResult(status: status, stdout: object["stdout"] as? String ?? "", stderr: object["stderr"] as? String ?? "",
                                         seconds: object["seconds"] as? Double ?? 0))
        }
        return (results, results.count < jobs.count ? "\(outcome.status) \(outcome.lastErrorLine ?? "")" : nil)
    }

    /// The container's Python server (started as program.py): for each program of plan.json, writes
    /// it to program.py (over the server's own file, which Python has read: tracebacks then show the
    /// program's lines) and its stdin to stdin.txt, forks a child that runs it, limits and times it,
    /// and prints one JSON line of results per program. What a failing program's traceback imports
    /// (~8 ms a failing program) and the stateless standard modules solutions often import (typing
    /// alone ~5 ms) are imported once here, not in every child; a child's `import` then finds them.
    static let server = #"""
    import json, os, resource, select, signal, sys, time, traceback
    import bisect, collections, functools, heapq, itertools, math, re, string, typing
    for warm_up in ("(", "1/0"):
        try:
            exec(compile(warm_up, "warm-up.py", "exec"))
        except (SyntaxError, ZeroDivisionError):
            traceback.format_exc()
    plan = json.load(open("plan.json"))
    cap = plan["cap"]
    out = os.dup(1)
    def run(i):
        source = plan["programs"][i].encode()
        with open("program.py", "wb") as f:
            f.write(source)
        with open("stdin.txt", "wb") as f:
            f.write(plan["stdins"][i].encode())
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        stdin = os.open("stdin.txt", os.O_RDONLY)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                os.dup2(stdin, 0); os.dup2(w_out, 1); os.dup2(w_err, 2)
                os.closerange(3, 65536)
                for what, value in ((resource.RLIMIT_CPU, plan["cpu"]), (resource.RLIMIT_AS, plan["memory"]),
                                    (resource.RLIMIT_FSIZE, plan["file"]), (resource.RLIMIT_NOFILE, plan["files"])):
                    resource.setrlimit(what, (value, value))
                sys.stdin = open(0, "r", closefd=False); sys.stdout = open(1, "w", closefd=False); sys.stderr = open(2, "w", closefd=False)
                sys.argv = ["program.py"]
                code = 0
                try:
                    exec(compile(source, "program.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
                except SystemExit as e:
                    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                    if not isinstance(e.code, int) and e.code is not None:
                        print(e.code, file=sys.stderr)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                sys.stdout.flush(); sys.stderr.flush()
                os._exit(code)
            finally:
                os._exit(1)
        os.close(w_out); os.close(w_err); os.close(stdin)
        # A pidfd turns "the child exited" into a readable fd, so select wakes on exit as on output.
        try: exited = os.pidfd_open(pid)
        except (AttributeError, OSError): exited = None
        bufs = {r_out: bytearray(), r_err: bytearray()}
        open_fds = [r_out, r_err]
        timed_out = over = False
        deadline = start + plan["wall"]
        status = None
        while True:
            if status is None:
                done, code = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = code
            left = deadline - time.monotonic()
            if status is None and left <= 0:
                timed_out = True
                break
            if not open_fds and status is not None:
                break
            # Once the program has exited, read what is left without waiting (a detached grandchild may hold the pipes).
            # Without a pidfd, poll for the exit every millisecond once the pipes are closed.
            watch = open_fds + ([exited] if exited is not None and status is None else [])
            wait = 0 if status is not None else min(max(left, 0), 0.05 if exited is not None or open_fds else 0.001)
            ready, _, _ = select.select(watch, [], [], wait) if watch else ([], [], [time.sleep(wait)])
            ready = [fd for fd in ready if fd != exited]
            if status is not None and not ready:
                break
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    open_fds.remove(fd)
                    continue
                room = cap - len(bufs[fd])
                bufs[fd] += data[:max(room, 0)]
                if len(data) > room:
                    over = True
            if over:
                break
        if timed_out or over or status is not None:
            try: os.killpg(pid, signal.SIGKILL)
            except OSError: pass
            try: os.kill(pid, signal.SIGKILL)
            except OSError: pass
        if status is None:
            _, status = os.waitpid(pid, 0)
        for fd in (r_out, r_err) + ((exited,) if exited is not None else ()):
            os.close(fd)
        result = {"i": i, "seconds": time.monotonic() - start, "timed_out": timed_out, "output_limit": over,
                  "stdout": bufs[r_out].decode("utf-8", "replace"), "stderr": bufs[r_err].decode("utf-8", "replace")}
        if os.WIFSIGNALED(status):
            result["signal"] = os.WTERMSIG(status)
        else:
            result["code"] = os.WEXITSTATUS(status)
        os.write(out, (json.dumps(result) + "\n").encode())
    for i in range(len(plan["programs"])):
        run(i)
    """#
}
