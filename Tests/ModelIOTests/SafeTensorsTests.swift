import Foundation
import TestSupport
import XCTest
@testable import ModelIO
@testable import TensorCore

/// Reading, writing and rejecting safetensors files, sharded checkpoints and config fields.
final class SafeTensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-modelio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A file with the given header object and `dataBytes` zero bytes of data.
    func rawFile(_ name: String, header: [String: Any], dataBytes: Int, headerLength: UInt64? = nil) throws -> URL {
        let json = try JSONSerialization.data(withJSONObject: header)
        var data = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: dataBytes))
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func expectError(_ url: URL, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile(url: url), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(error is ModelIOError, "not a ModelIOError: \(error)", file: file, line: line)
            XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertTrue(message.contains(url.lastPathComponent), "'\(message)' does not name the file", file: file, line: line)
        }
    }

    func testRoundTripF32AndBF16() throws {
        var rng = SeededGenerator(seed: 3)
        let a = rng.normal([3, 5]), b = rng.normal([7])
        let f32 = dir.appendingPathComponent("f32.safetensors"), bf16 = dir.appendingPathComponent("bf16.safetensors")
        try SafeTensorsWriter.write([("a", a), ("b", b)], to: f32)
        try SafeTensorsWriter.write([("a", a), ("b", b)], to: bf16, dtype: .bf16)
        let read = try SafeTensorsFile(url: f32)
        XCTAssertEqual(read.names, ["a", "b"])
        XCTAssertEqual(read.metadata["format"], "pt")
        XCTAssertEqual(try read.tensor("a").values, a.values)
        XCTAssertEqual(try read.tensor("b").shape, [7])
        let half = try SafeTensorsFile(url: bf16)
        XCTAssertEqual(half.info("a")?.dtype, "BF16")
        for (x, y) in zip(try half.tensor("a").values, a.values) {
            XCTAssertEqual(x, y, accuracy: abs(y) / 128, "bf16 keeps 8 significant bits")
        }
        XCTAssertEqual(SafeTensorsWriter.bfloat16Bits(1.0), 0x3F80)
        XCTAssertEqual(SafeTensorsWriter.bfloat16Bits(Float(bitPattern: 0x3F80_8000)), 0x3F80, "tie rounds to even")
        XCTAssertEqual(SafeTensorsWriter.bfloat16Bits(Float(bitPattern: 0x3F81_8000)), 0x3F82, "tie rounds to even")
    }

    /// Files are streamed tensor by tensor (bf16 through a buffer of 2^20 values): a tensor longer
    /// than that buffer keeps every value's rounding, and a write that fails part-way leaves
    /// neither the file nor its temporary behind.
    func testStreamedWritesAcrossTheBufferAndFailures() throws {
        var rng = SeededGenerator(seed: 5)
        let long = rng.normal([(1 << 20) + 37]), short = rng.normal([3])
        let url = dir.appendingPathComponent("long.safetensors")
        try SafeTensorsWriter.write([("short", short), ("long", long)], to: url, dtype: .bf16)
        let read = try SafeTensorsFile(url: url)
        let bits = try read.tensor("long").values.map { UInt16($0.bitPattern >> 16) }
        XCTAssertEqual(bits, long.values.map(SafeTensorsWriter.bfloat16Bits), "every value rounded once, in order")
        XCTAssertEqual(try read.tensor("short").values.map { UInt16($0.bitPattern >> 16) }, short.values.map(SafeTensorsWriter.bfloat16Bits))

        struct Interrupted: Error {}
        let failed = dir.appendingPathComponent("failed.bin")
        XCTAssertThrowsError(try AtomicFile.write(to: failed) { sink in
            try [UInt8](repeating: 1, count: 100).withUnsafeBytes { try sink($0) }
            throw Interrupted()
        }) { error in XCTAssertTrue(error is ModelIOError && "\(error)".contains("failed.bin"), "\(error)") }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["long.safetensors"])
    }

    func testReadsF16() throws {
        // 1.0, -2.0, 0.5, 65504 (max half), a subnormal 2^-24
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001]
        var data = Data()
        let header = try JSONSerialization.data(withJSONObject: ["h": ["dtype": "F16", "shape": [5], "data_offsets": [0, 10]]])
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        halves.withUnsafeBufferPointer { data.append($0) }
        let url = dir.appendingPathComponent("f16.safetensors")
        try data.write(to: url)
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("h").values, [1, -2, 0.5, 65504, Float(0x1p-24)])
    }

    func testCorruptFilesGiveTypedErrors() throws {
        let ok: [String: Any] = ["w": ["dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]]]
        let good = try rawFile("good.safetensors", header: ok, dataBytes: 16)
        XCTAssertNoThrow(try SafeTensorsFile(url: good))
        // Truncated: the data section is shorter than the offsets claim.
        expectError(try rawFile("truncated.safetensors", header: ok, dataBytes: 12), "outside")
        // Header length larger than the file.
        expectError(try rawFile("longheader.safetensors", header: ok, dataBytes: 16, headerLength: 1 << 40), "header length")
        // Shape x dtype does not match the byte range.
        expectError(try rawFile("shape.safetensors", header: ["w": ["dtype": "F32", "shape": [3, 2], "data_offsets": [0, 16]]],
                                dataBytes: 16), "needs 24 bytes")
        // Unknown dtype.
        expectError(try rawFile("dtype.safetensors", header: ["w": ["dtype": "Q4", "shape": [2], "data_offsets": [0, 2]]],
                                dataBytes: 2), "dtype Q4")
        // Missing fields.
        expectError(try rawFile("fields.safetensors", header: ["w": ["dtype": "F32"]], dataBytes: 0), "data_offsets")
        // Not JSON.
        let junk = dir.appendingPathComponent("junk.safetensors")
        var data = Data()
        withUnsafeBytes(of: UInt64(4).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array("{{{{".utf8))
        try data.write(to: junk)
        expectError(junk, "JSON")
        // Too short for the length prefix.
        let tiny = dir.appendingPathComponent("tiny.safetensors")
        try Data([1, 2, 3]).write(to: tiny)
        expectError(tiny, "8-byte")
        // A readable dtype that cannot become fp32.
        let ints = try rawFile("ints.safetensors", header: ["i": ["dtype": "I64", "shape": [1], "data_offsets": [0, 8]]], dataBytes: 8)
        XCTAssertThrowsError(try SafeTensorsFile(url: ints).tensor("i")) { XCTAssertTrue("\($0)".contains("I64")) }
    }

    /// Two tensors sharing bytes, or one name given twice (JSONSerialization keeps one), are
    /// refused with both names; empty tensors may sit anywhere.
    func testOverlappingOrDuplicatedTensorsAreRefused() throws {
        expectError(try rawFile("overlap.safetensors", header: [
            "a": ["dtype": "F32", "shape": [4], "data_offsets": [0, 16]],
            "b": ["dtype": "F32", "shape": [4], "data_offsets": [8, 24]],
        ], dataBytes: 24), "tensor 'b' data_offsets [8, 24] overlap tensor 'a' [0, 16]")
        let json = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"a":{"dtype":"F32","shape":[4],"data_offsets":[16,32]}}"#
        var data = Data()
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(json.utf8) + [UInt8](repeating: 0, count: 32))
        let duplicate = dir.appendingPathComponent("duplicate.safetensors")
        try data.write(to: duplicate)
        expectError(duplicate, "header names tensor 'a' more than once")
        XCTAssertNoThrow(try SafeTensorsFile(url: try rawFile("empty.safetensors", header: [
            "a": ["dtype": "F32", "shape": [4], "data_offsets": [0, 16]],
            "e": ["dtype": "F32", "shape": [0], "data_offsets": [8, 8]],
            "b": ["dtype": "F32", "shape": [2], "data_offsets": [16, 24]],
            "__metadata__": ["format": "pt", "note": "a \"quoted\": {value}"],
        ], dataBytes: 24)))
    }

    func testShardedCheckpoint() throws {
        var rng = SeededGenerator(seed: 4)
        let a = rng.normal([4]), b = rng.normal([2, 3])
        try SafeTensorsWriter.write([("a", a)], to: dir.appendingPathComponent("model-00001-of-00002.safetensors"))
        try SafeTensorsWriter.write([("b", b)], to: dir.appendingPathComponent("model-00002-of-00002.safetensors"))
        let index: [String: Any] = ["metadata": [:], "weight_map": ["a": "model-00001-of-00002.safetensors",
                                                                    "b": "model-00002-of-00002.safetensors"]]
        try JSONSerialization.data(withJSONObject: index).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        let reader = try CheckpointReader(directory: dir)
        XCTAssertEqual(reader.names, ["a", "b"])
        XCTAssertEqual(try reader.tensor("b").values, b.values)
        let out = Tensor(zeros: [2, 3])
        XCTAssertThrowsError(try reader.read("b", expectedShape: [3, 2], into: out.data)) { error in
            XCTAssertEqual("\(error)", "tensor 'b' has shape [2, 3], expected [3, 2]")
        }
        XCTAssertThrowsError(try reader.read("c", expectedShape: [1], into: out.data)) { error in
            XCTAssertEqual("\(error)", "\(dir.path)/model.safetensors.index.json: tensor 'c' not found")
        }
    }

    /// Found by `grpo fuzz safetensors`: a tensor missing from model.safetensors was reported against
    /// the folder, not the file.
    func testMissingTensorNamesTheFile() throws {
        try SafeTensorsWriter.write([("a", Tensor(zeros: [2]))], to: dir.appendingPathComponent("model.safetensors"))
        let reader = try CheckpointReader(directory: dir)
        let out = Tensor(zeros: [2])
        for read in [{ try reader.read("b", expectedShape: [2], into: out.data) }, { _ = try reader.tensor("b") }] {
            XCTAssertThrowsError(try read()) { error in
                XCTAssertEqual("\(error)", "\(self.dir.path)/model.safetensors: tensor 'b' not found")
            }
        }
    }

    func testAtomicDirectoryReplacesOnlyWhenComplete() throws {
        let target = dir.appendingPathComponent("ckpt")
        try AtomicFile.writeDirectory(at: target) { try Data("one".utf8).write(to: $0.appendingPathComponent("f")) }
        struct Stop: Error {}
        XCTAssertThrowsError(try AtomicFile.writeDirectory(at: target) { temp in
            try Data("two".utf8).write(to: temp.appendingPathComponent("f"))
            throw Stop()
        })
        XCTAssertEqual(try String(contentsOf: target.appendingPathComponent("f"), encoding: .utf8), "one")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
    }

    func testConfigFieldsAreTyped() throws {
        let json = JSONConfig(file: "config.json", values: ["a": 3, "b": true, "c": "x", "d": [1, 2], "e": 2.5])
        XCTAssertEqual(try json.int("a"), 3)
        XCTAssertEqual(try json.optionalBool("b"), true)
        XCTAssertEqual(try json.optionalIntList("d"), [1, 2])
        XCTAssertEqual(try json.optionalIntList("a"), [3])
        XCTAssertThrowsError(try json.int("b")) { XCTAssertEqual("\($0)", "config.json: field 'b': expected an integer, got true") }
        XCTAssertThrowsError(try json.int("e")) { XCTAssertEqual("\($0)", "config.json: field 'e': expected an integer, got 2.5") }
        XCTAssertThrowsError(try json.optionalBool("a")) { XCTAssertEqual("\($0)", "config.json: field 'a': expected true or false, got 3") }
        XCTAssertThrowsError(try json.int("missing")) { XCTAssertEqual("\($0)", "config.json: field 'missing': missing") }
    }
}
