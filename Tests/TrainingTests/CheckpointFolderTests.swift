import Foundation
@testable import Training
import XCTest

/// What a killed checkpoint write leaves in output_dir is cleaned up when the next run starts.
final class CheckpointFolderTests: XCTestCase {
    func testUnfinishedWritesAreRemovedAndAReplacedCheckpointRestored() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("grpo-unfinished-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: dir) }
        for name in ["checkpoint-3", ".checkpoint-5.tmp-123", ".checkpoint-4.old-99", ".checkpoint-3.old-98", "notes"] {
            try fm.createDirectory(at: dir.appendingPathComponent(name), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: dir.appendingPathComponent(name).appendingPathComponent("marker"))
        }
        let lines = TrainingCheckpoint.removeUnfinishedWrites(dir)
        XCTAssertEqual(lines.count, 3, lines.description)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir.path).sorted(), ["checkpoint-3", "checkpoint-4", "notes"])
        // checkpoint-4's successor never landed: the old folder is put back whole.
        XCTAssertTrue(fm.fileExists(atPath: dir.appendingPathComponent("checkpoint-4/marker").path))
        XCTAssertEqual(try TrainingCheckpoint.list(dir).map(\.step), [3, 4])
    }
}
