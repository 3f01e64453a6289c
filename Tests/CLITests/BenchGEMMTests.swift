import Foundation
import XCTest

/// `grpo bench gemm --json` reports the shapes in order, each with its rate and its ratio to
/// the peak measured beside it, for the kernel asked for; an unknown kernel is refused by name.
final class BenchGEMMTests: XCTestCase {
    func testJSONReportListsTheShapesInOrder() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        for kernel in ["packed", "blas"] {
            let result = try GRPOBinary.run(["bench", "gemm", "--json", "--batches", "1", "--kernel", kernel])
            XCTAssertEqual(result.status, 0, result.err)
            let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
            XCTAssertGreaterThan(try XCTUnwrap(report["peak_gflops"] as? Double), 0)
            XCTAssertEqual(report["kernel"] as? String, kernel)
            let rows = try XCTUnwrap(report["gemm"] as? [[String: Any]])
            XCTAssertEqual(rows.compactMap { $0["shape"] as? String }.prefix(3),
                           ["(512x256)x(256x1024)", "(64x512)x(512x32000)", "(2048x256)x(256x768)"])
            XCTAssertEqual(rows.count, 9)
            for row in rows {
                let gflops = try XCTUnwrap(row["gflops"] as? Double), ratio = try XCTUnwrap(row["ratio"] as? Double)
                XCTAssertTrue(gflops > 0 && ratio > 0 && ratio < 2, "\(row)")
            }
        }
        let bad = try GRPOBinary.run(["bench", "gemm", "--kernel", "fastest"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("fastest"), bad.err)
    }
}
