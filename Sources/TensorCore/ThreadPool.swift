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
    /// The process-wide pool, one thread per core.
    public static let shared = ThreadPool(threads: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    public let threadCount: Int
    /// Below this much work (in "cost units", roughly flops) a job runs inline.
    public var inlineThreshold = 400_000
    /// Polls of the job counter before a worker sleeps (about 0.2 ms): a training step issues
    /// parallel ops every few tens of microseconds, and each futex wake costs 50-90 us.
    private let spinLimit = 200_000

    private let generation = Atomic<Int>(0)
    private let nextTask = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    /// Workers that finished the current generation; the caller waits for all of them before it
    /// touches `job` again, so no worker can read a stale job.
    private let finishedWorkers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    private var taskCount = 0
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
            while generation.load(ordering: .acquiring) == seen && spins < spinLimit { spins += 1 }
            if generation.load(ordering: .acquiring) == seen {
                pthread_mutex_lock(&mutex)
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&wake, &mutex) }
                pthread_mutex_unlock(&mutex)
            }
            seen = generation.load(ordering: .acquiring)
            runTasks()
            finishedWorkers.wrappingAdd(1, ordering: .releasing)
        }
    }

    private func runTasks() {
        guard let body = job else { return }
        while true {
            let index = nextTask.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
            if index >= taskCount { return }
            body(index)
            pending.wrappingSubtract(1, ordering: .releasing)
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
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            taskCount = tasks
            nextTask.store(0, ordering: .releasing)
            pending.store(tasks, ordering: .releasing)
            finishedWorkers.store(0, ordering: .releasing)
            pthread_mutex_lock(&mutex)
            generation.wrappingAdd(1, ordering: .acquiringAndReleasing)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
            runTasks()
            while pending.load(ordering: .acquiring) > 0 {}
            while finishedWorkers.load(ordering: .acquiring) < threadCount - 1 {}
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
