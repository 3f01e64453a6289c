import Foundation
import XCTest
@testable import Tracking

final class EventFileTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The iSCSI test vectors of CRC-32C (RFC 3720, B.4).
    func testCRC32CKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
    }

    /// A file written by TensorBoard's Python writer (Scripts/make_tracking_fixtures.py) reads back
    /// with the values it was given, and our encoding and framing of each scalar event are its bytes.
    func testPythonWritersFileReadsBackAndReencodesToTheSameBytes() throws {
        let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("python.tfevents")))
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("python.tfevents.json")))
            as? [[String: Any]])
        let (records, stopped) = TFRecord.records(bytes)
        XCTAssertNil(stopped)
        XCTAssertEqual(records.count, 1 + expected.count)
        let events = try records.map { try Event(decoding: $0) }
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        for (event, want) in zip(events.dropFirst(), expected) {
            XCTAssertEqual(event.wallTime, try XCTUnwrap(want["wall_time"] as? Double))
            XCTAssertEqual(event.step, Int64(try XCTUnwrap(want["step"] as? Int)))
            let scalars = try XCTUnwrap(want["scalars"] as? [[Any]])
            XCTAssertEqual(event.scalars.map(\.tag), scalars.compactMap { $0[0] as? String })
            XCTAssertEqual(event.scalars.map(\.value), scalars.compactMap { ($0[1] as? Double).map(Float.init) })
        }
        var rebuilt = TFRecord.frame(Array(records[0]))
        for (event, record) in zip(events.dropFirst(), records.dropFirst()) {
            XCTAssertEqual(event.encoded, Array(record), "protobuf encoding of step \(event.step)")
            rebuilt += TFRecord.frame(event.encoded)
        }
        XCTAssertEqual(rebuilt, bytes, "TFRecord framing")
    }

    /// A file cut at any byte reads back up to its last whole record, and says why it stopped.
    func testACutFileReadsUpToItsLastWholeRecord() throws {
        let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("python.tfevents")))
        let whole = TFRecord.records(bytes).records
        var ends: [Int] = [], at = 0
        for r in whole {
            at += r.count + 16
            ends.append(at)
        }
        for cut in 0..<bytes.count {
            let (records, stopped) = TFRecord.records(Array(bytes[0..<cut]))
            XCTAssertEqual(records.count, ends.filter { $0 <= cut }.count, "cut at \(cut)")
            XCTAssertEqual(stopped == nil, cut == 0 || ends.contains(cut), "cut at \(cut)")
        }
        var corrupt = bytes
        corrupt[30] ^= 0x01
        XCTAssertEqual(TFRecord.records(corrupt).records.count, 0, "a flipped bit in the first record's data")
        XCTAssertNotNil(TFRecord.records(corrupt).stoppedBecause)
    }

    /// Our writer's file: the version record, then one event per logged step with TRL's tags.
    func testWriterWritesTaggedScalarsThatReadBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-events-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try EventFileWriter(directory: dir, host: "testhost")
        try writer.write(step: 1, ["reward": 0.5, "eval/pass@1": 0.25, "kl": .nan])
        try writer.write(step: 2, ["reward": 0.75, "rewards/math_answer/mean": 0.125])
        let second = try EventFileWriter(directory: dir, host: "testhost")
        try second.write(step: 3, ["reward": 1])
        let files = EventFileReader.files(in: dir)
        XCTAssertEqual(files.count, 2, "a second writer in the same second makes its own file")
        XCTAssertTrue(files[0].lastPathComponent.hasPrefix("events.out.tfevents.") && files[0].lastPathComponent.hasSuffix(".testhost"))
        let (events, stopped) = try EventFileReader.read(files[0])
        XCTAssertNil(stopped)
        XCTAssertEqual(events.map(\.fileVersion), ["brain.Event:2", nil, nil])
        XCTAssertEqual(events[1].step, 1)
        XCTAssertEqual(events[1].scalars, [.init(tag: "eval/pass@1", value: 0.25), .init(tag: "train/reward", value: 0.5)],
                       "NaN left out; eval/ kept, the rest under train/")
        XCTAssertEqual(events[2].scalars, [.init(tag: "train/reward", value: 0.75), .init(tag: "train/rewards/math_answer/mean", value: 0.125)])
        XCTAssertEqual(try EventFileReader.read(files[1]).events.last?.step, 3)
    }
}

final class JSONLineTests: XCTestCase {
    /// Our encoder's lines parse back with Foundation's parser to the values written: escapes,
    /// control characters, non-ASCII, shortest round-trip numbers, null for non-finite values.
    func testLinesParseBackToTheirValues() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} é 数 </script>"
        let numbers = [0.1, 1e-5, 123456789.123, -0.0, 3, 1e300, Double.leastNonzeroMagnitude]
        let line = JSONLine.object(["s": .string(text), "n": .array(numbers.map { .number($0) }), "nan": .number(.nan),
                                    "i": .int(-7), "b": .bool(true), "z": .null, "o": .object(["b": .int(2), "a": .int(1)])]).text
        XCTAssertTrue(line.hasPrefix("{\"b\":true,\"i\":-7,\"n\":["), "keys sorted: \(line)")
        XCTAssertTrue(line.contains("\"o\":{\"a\":1,\"b\":2}"), line)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["s"] as? String, text)
        XCTAssertEqual(parsed["n"] as? [Double], numbers)
        XCTAssertTrue(parsed["nan"] is NSNull)
        XCTAssertTrue(parsed["z"] is NSNull)
        XCTAssertEqual(parsed["i"] as? Int, -7)
    }
}
