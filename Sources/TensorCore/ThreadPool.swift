#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A small persistent pool: the calling thread plus `threads - 1` workers, woken per job.
///
/// Waking a sleeping worker costs 50-90 us on this machine, so workers spin briefly before they
/// sleep, and callers split only work worth about a millisecond or more (`parallelFor`'s `cost`).
/// Nested calls run inline on the calling thread.
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool: one thread per online core, or `GRPO_NUM_THREADS` when set to a
    /// positive integer (like OMP_NUM_THREADS: for sharing a machine between runs). Under mpirun,
    /// the ranks on one machine share its cores (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE).
    public static let shared = ThreadPool(threads: configuredThreadCount(getenv("GRPO_NUM_THREADS").map { String(cString: $0) },
                                                                         localRanks: getenv("OMPI_COMM_WORLD_LOCAL_SIZE").map { String(cString: $0) }))

    /// The thread count for a `GRPO_NUM_THREADS` value; unset, empty or invalid values mean every
    /// online core, divided among `localRanks` processes of an MPI run on this machine.
    static func configuredThreadCount(_ value: String?, localRanks: String? = nil) -> Int {
        if let value, let n = Int(value), n >= 1 { return min(n, 256) }
        let ranks = localRanks.flatMap { Int($0) }.map { max($0, 1) } ?? 1
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)) / ranks)
    }

    public let threadCount: Int
    /// Below this much work (in "cost units", roughly flops) a job runs inline.
    public var inlineThreshold = 400_000
    /// Polls of the job counter before a worker sleeps (about 0.2 ms): a training step issues
    /// parallel ops every few tens of microseconds, and each futex wake costs 50-90 us.
    private let spinLimit = 200_000

    /// The current job's generation (high 32 bits) and its next unclaimed task (low 32 bits) in one
    /// word, so a worker claims a task of the generation it saw or none: a worker that wakes late
    /// (asleep, or descheduled on a busy machine) can never run a finished job's closure, and the
    /// caller returns as soon as every task is done instead of waiting for every worker to notice
    /// the job. A finished job's word is closed (`closedIndex`) before the next job is written.
    private let state = Atomic<Int>(0)
    private static let closedIndex = 0xFFFF_FFFF
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    /// The current job's task count (atomic: a late worker may read it while the caller sets the next).
    private let taskCount = Atomic<Int>(0)
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()

    public init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for _ in 1..<threadCount { startWorker() }
    }

    private func startWorker() {
        let unmanaged = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            #if canImport(Darwin)
            let pool = Unmanaged<ThreadPool>.fromOpaque(context).takeRetainedValue()
            #else
            let pool = Unmanaged<ThreadPool>.fromOpaque(context!).takeRetainedValue()
            #endif
            pool.workerLoop()
            return nil
        }, unmanaged.toOpaque())
        if result != 0 { unmanaged.release() }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation() == seen && spins < spinLimit { spins += 1 }
            if generation() == seen {
                pthread_mutex_lock(&mutex)
                while generation() == seen { pthread_cond_wait(&wake, &mutex) }
                pthread_mutex_unlock(&mutex)
            }
            seen = generation()
            runTasks(generation: seen)
        }
    }

    private func generation() -> Int { state.load(ordering: .acquiring) >> 32 }

    /// Runs tasks of generation `g` until none is left to claim.
    private func runTasks(generation g: Int) {
        while let index = claim(generation: g) {
            // Safe: the caller waits for this task (pending) before it replaces `job`.
            job!(index)
            pending.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// The next task index of generation `g`, or nil once its tasks are all claimed or it ended.
    private func claim(generation g: Int) -> Int? {
        var word = state.load(ordering: .acquiring)
        while true {
            // While the word says generation g and is not closed, `taskCount` is g's.
            let index = word & Self.closedIndex
            guard word >> 32 == g, index < taskCount.load(ordering: .relaxed) else { return nil }
            let (exchanged, original) = state.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if exchanged { return index }
            word = original
        }
    }

    /// Whether a job is running (calls from inside its tasks run inline).
    public var isInsideJob: Bool { busy.load(ordering: .relaxed) }

    /// Runs `body(i)` for every i in 0..<tasks across the pool; returns when all are done.
    public func run(tasks: Int, _ body: (Int) -> Void) {
        if tasks <= 0 { return }
        if tasks == 1 || threadCount == 1
            || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<tasks { body(i) }
            return
        }
        precondition(tasks < Self.closedIndex, "ThreadPool.run: \(tasks) tasks")
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            taskCount.store(tasks, ordering: .relaxed)
            pending.store(tasks, ordering: .releasing)
            let g = (generation() + 1) & 0x7FFF_FFFF  // 31 bits, so the word stays positive
            pthread_mutex_lock(&mutex)
            state.store(g << 32, ordering: .releasing)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
            runTasks(generation: g)
            // Only tasks a worker already claimed are left: wait for those (yielding after a few
            // microseconds, in case that worker was descheduled on a busy machine).
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 4_000 { sched_yield() }
            }
            state.store(g << 32 | Self.closedIndex, ordering: .releasing)
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Splits 0..<count into contiguous ranges, one per thread, when `count * costPerItem` is
    /// worth it; otherwise runs `body(0..<count)` inline.
    public func parallelFor(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let parts = min(threadCount, count)
        if parts == 1 || count * costPerItem < inlineThreshold {
            body(0..<count)
            return
        }
        run(tasks: parts) { part in
            let lo = count * part / parts, hi = count * (part + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
    }
}
