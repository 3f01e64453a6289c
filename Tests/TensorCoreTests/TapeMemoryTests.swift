import XCTest
@testable import TensorCore

/// What the tape and the storage keep alive: an op's output values only while a backward needs
/// them, each op's saved tensors only until its backward has run, and no memory for buffers
/// nobody writes.
final class TapeMemoryTests: XCTestCase {
    var rng = SeededGenerator(seed: 31)

    func testTheTapeKeepsNoValuesThatNoBackwardReads() {
        let x = rng.normal([4, 6], requiresGrad: true)
        let table = RotaryTable(positions: [0, 1, 2, 3], headDim: 6, theta: 10_000)
        let tape = Tape()
        weak var sum: Storage?
        let y: Tensor = {
            let s = tape.add(x, x)  // neither rope's backward nor add's reads these values
            sum = s.storage
            return tape.rope(tape.reshape(s, [1, 4, 1, 6]), table: table)
        }()
        XCTAssertNil(sum, "an op output that no backward reads outlived the forward")
        tape.backward(y, seed: [Float](repeating: 1, count: y.count))
        XCTAssertNotNil(x.grad)
    }

    func testBackwardReleasesEachOpOnceItHasRun() {
        let x = rng.normal([4, 6], requiresGrad: true), w = rng.normal([5, 6], requiresGrad: true)
        let tape = Tape()
        weak var saved: Storage?
        var releasedBeforeEarlierOps: Bool?
        // A probe recorded first, so its backward runs last: by then the linear op, which keeps
        // its input for the weight gradient, has run and must have let go of it.
        let probe = tape.output(x.shape, [x])
        probe.storage.assign(x.values)
        tape.record(probe) { _ in releasedBeforeEarlierOps = saved == nil }
        let y: Tensor = {
            let h = tape.scale(probe, 2)
            saved = h.storage
            return tape.linear(h, w)
        }()
        XCTAssertNotNil(saved, "linear must keep its input until backward")
        tape.backward(y, seed: [Float](repeating: 1, count: y.count))
        XCTAssertEqual(releasedBeforeEarlierOps, true)
        XCTAssertNil(saved)
    }

    func testStorageIsZeroedAndAligned() {
        for count in [1, 3, 1000, 70_001] {
            let heap = Storage(count: count), mapped = Storage(count: count, lazilyZeroed: true)
            for s in [heap, mapped] {
                XCTAssertEqual(UInt(bitPattern: s.pointer) % 64, 0, "\(count) floats not 64-byte aligned")
                XCTAssertTrue(s.buffer.allSatisfy { $0 == 0 }, "\(count) floats not zero-filled")
                s.pointer[count - 1] = 2
                XCTAssertEqual(s.pointer[count - 1], 2)
            }
        }
    }
}
