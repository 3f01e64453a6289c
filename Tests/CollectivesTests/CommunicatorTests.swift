import XCTest
@testable import Collectives

final class CommunicatorTests: XCTestCase {
    func testLaunchReadsTheLaunchersVariables() {
        XCTAssertNil(Launch.launchedSize([:]))
        XCTAssertNil(Launch.launchedSize(["OMPI_COMM_WORLD_SIZE": "two"]))
        XCTAssertEqual(Launch.launchedSize(["OMPI_COMM_WORLD_SIZE": "4"]), 4)
        XCTAssertEqual(Launch.launchedSize(["PMI_SIZE": "3"]), 3)
    }

    func testWithoutALauncherTheCommunicatorIsOneRankAndNeverTouchesMPI() throws {
        let one = try Launch.communicator([:])
        XCTAssertTrue(one is SingleProcess)
        XCTAssertEqual(one.rank, 0)
        XCTAssertEqual(one.size, 1)
        var floats: [Float] = [1, -2, 3.5]  // (3)
        try floats.withUnsafeMutableBufferPointer { try one.allreduceSum($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(floats, [1, -2, 3.5])
        XCTAssertEqual(try one.allreduce([2, 5], .max), [2, 5])
        XCTAssertEqual(try one.allgather([UInt64(7), 9]), [[7, 9]])
        XCTAssertEqual(try one.allgather([Double]()), [[]])
        var bytes: [UInt8] = [1, 2]
        try one.broadcast(&bytes)
        XCTAssertEqual(bytes, [1, 2])
    }
}
