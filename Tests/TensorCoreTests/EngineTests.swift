import XCTest
import TestSupport
@testable import TensorCore

/// The tape, the random generator, the thread pool and the schedules.
final class EngineTests: XCTestCase {
    func testBackwardAccumulatesUntilZeroed() {
        let params = ParameterSet([("w", [3])])
        let w = params["w"]!
        w.storage.assign([1, 2, 3])
        for _ in 0..<2 {
            let tape = Tape()
            tape.backward(tape.sum(tape.mul(w, w)))  // d/dw sum(w^2) = 2w
        }
        XCTAssertEqual(w.gradValues, [4, 8, 12])
        params.zeroGrad()
        XCTAssertEqual(w.gradValues, [0, 0, 0])
    }

    func testInferenceTapeRecordsNothing() {
        let params = ParameterSet([("w", [2, 2])])
        let tape = Tape(recording: false)
        let y = tape.linear(Tensor(shape: [1, 2], values: [1, 1]), params["w"]!)
        XCTAssertEqual(tape.count, 0)
        XCTAssertFalse(y.requiresGrad)
        let recording = Tape()
        _ = recording.linear(Tensor(shape: [1, 2], values: [1, 1]), params["w"]!)
        XCTAssertEqual(recording.count, 1)
    }

    func testReshapeSharesGradient() {
        var rng = SeededGenerator(seed: 5)
        let x = rng.normal([2, 6], requiresGrad: true)
        let tape = Tape()
        let view = tape.reshape(x, [3, 4])
        tape.backward(tape.sum(tape.scale(view, 3)))
        XCTAssertEqual(x.gradValues, [Float](repeating: 3, count: 12))
    }

    func testGradientsFlowOnlyToTensorsThatRequireThem() {
        var rng = SeededGenerator(seed: 6)
        let x = rng.normal([4, 3]), w = rng.normal([2, 3], requiresGrad: true)
        let tape = Tape()
        tape.backward(tape.sum(tape.linear(x, w)))
        XCTAssertNil(x.grad)
        XCTAssertNotNil(w.grad)
    }

    func testGeneratorIsDeterministicAndRestorable() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        let first = (0..<5).map { _ in a.next() }
        XCTAssertEqual(first, (0..<5).map { _ in b.next() })
        // Pinned values: a change here changes every seeded run (initialisations, sampling, data order).
        var pinned = SeededGenerator(seed: 42)
        XCTAssertEqual((0..<3).map { _ in pinned.next() },
                       [1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009])
        XCTAssertEqual(pinned.nextNormal(), 0.3951862774808584)
        _ = a.nextNormal()
        var restored = SeededGenerator(state: a.state, spareNormal: a.spareNormal)!
        XCTAssertEqual((0..<4).map { _ in restored.nextNormal() }, (0..<4).map { _ in a.nextNormal() })
        var one = SeededGenerator(seed: 1), two = SeededGenerator(seed: 2)
        XCTAssertNotEqual(one.next(), two.next())
    }

    func testNormalAndUniformStatistics() {
        var rng = SeededGenerator(seed: 9)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n {
            let x = rng.nextNormal()
            sum += x
            sumSq += x * x
        }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(sumSq / Double(n), 1, accuracy: 0.01)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<n { counts[rng.nextInt(below: 10)] += 1 }
        for c in counts { XCTAssertEqual(Double(c) / Double(n), 0.1, accuracy: 0.005) }
        let u = (0..<1000).map { _ in rng.uniform(-2, 3) }
        XCTAssertTrue(u.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    func testThreadCountFromEnvironment() {
        let cores = ThreadPool.configuredThreadCount(nil)
        XCTAssertGreaterThanOrEqual(cores, 1)
        XCTAssertEqual(ThreadPool.configuredThreadCount("1"), 1)
        XCTAssertEqual(ThreadPool.configuredThreadCount("3"), 3)
        // MPI ranks on one machine split its cores unless GRPO_NUM_THREADS says otherwise.
        XCTAssertEqual(ThreadPool.configuredThreadCount(nil, localRanks: String(cores)), 1)
        XCTAssertEqual(ThreadPool.configuredThreadCount(nil, localRanks: String(2 * cores)), 1)
        XCTAssertEqual(ThreadPool.configuredThreadCount(nil, localRanks: "1"), cores)
        XCTAssertEqual(ThreadPool.configuredThreadCount("3", localRanks: "2"), 3)
        for bad in ["", "0", "-2", "two", "1.5"] { XCTAssertEqual(ThreadPool.configuredThreadCount(bad), cores, bad) }
    }

    func testThreadPoolRunsEveryTaskOnce() {
        let pool = ThreadPool.shared
        for tasks in [1, 2, 3, 17, 1000] {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: tasks)
            hits.initialize(repeating: 0, count: tasks)
            for _ in 0..<50 { pool.run(tasks: tasks) { hits[$0] += 1 } }
            XCTAssertTrue((0..<tasks).allSatisfy { hits[$0] == 50 }, "\(tasks) tasks")
            hits.deallocate()
        }
        // parallelFor covers 0..<count exactly once, and nested calls run inline.
        let n = 100_000
        let seen = UnsafeMutablePointer<Int32>.allocate(capacity: n)
        seen.initialize(repeating: 0, count: n)
        pool.parallelFor(n, costPerItem: 1_000) { range in
            pool.parallelFor(range.count, costPerItem: 1_000) { inner in
                for i in inner { seen[range.lowerBound + i] += 1 }
            }
        }
        XCTAssertTrue((0..<n).allSatisfy { seen[$0] == 1 })
        seen.deallocate()
    }

    /// Back-to-back jobs of a few tiny tasks, as a decode step issues them: the caller returns once
    /// every task is done, and a worker that notices a job late runs none of a finished job's tasks.
    func testThreadPoolBackToBackJobs() {
        let (jobs, tasks) = (20_000, 3)
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: jobs * tasks)
        hits.initialize(repeating: 0, count: jobs * tasks)
        for job in 0..<jobs { ThreadPool.shared.run(tasks: tasks) { hits[job * tasks + $0] += 1 } }
        XCTAssertTrue((0..<(jobs * tasks)).allSatisfy { hits[$0] == 1 })
        hits.deallocate()
    }

    func testSchedules() {
        let cosine = LearningRateSchedule(.cosine, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(cosine.multiplier(step: 0), 0)
        XCTAssertEqual(cosine.multiplier(step: 5), 0.5)
        XCTAssertEqual(cosine.multiplier(step: 10), 1)
        XCTAssertEqual(cosine.multiplier(step: 60), 0.5, accuracy: 1e-12)
        XCTAssertEqual(cosine.multiplier(step: 110), 0, accuracy: 1e-12)
        let linear = LearningRateSchedule(.linear, warmupSteps: 0, totalSteps: 100)
        XCTAssertEqual(linear.multiplier(step: 25), 0.75)
        XCTAssertEqual(linear.multiplier(step: 200), 0)
        let constant = LearningRateSchedule(.constant, warmupSteps: 4, totalSteps: 100)
        XCTAssertEqual(constant.multiplier(step: 1), 0.25)
        XCTAssertEqual(constant.multiplier(step: 99), 1)
    }

    func testClippingScalesOnlyAboveTheLimit() {
        let params = ParameterSet([("a", [2]), ("b", [1])])
        params.grads.assign([3, 0, 4])
        XCTAssertEqual(params.clipGradNorm(maxNorm: 10), 5, accuracy: 1e-9)
        XCTAssertEqual(params.grads.buffer.map { $0 }, [3, 0, 4])
        XCTAssertEqual(params.clipGradNorm(maxNorm: 1), 5, accuracy: 1e-9)
        XCTAssertEqual(params.gradNorm(), 1, accuracy: 1e-5)
    }
}
