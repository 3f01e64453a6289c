import Foundation
import TestSupport
import XCTest
@testable import ModelIO
@testable import TensorCore

/// The GGUF reader: dequantisers against gguf-py and hand-made blocks, metadata of every value type,
/// tensor infos, name mapping and the Llama Q/K un-permutation, tokenizer fields, and typed errors
/// (never a crash) for corrupt and truncated files. Fixtures: Scripts/make_gguf_fixtures.py.
final class GGUFTests: XCTestCase {
    var dir: URL!
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    // MARK: Dequantisation

    func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float]? {
        var out = [Float](repeating: .nan, count: count)
        let ok = bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { GGMLDequantizer.dequantize(type, from: src.baseAddress!, to: $0.baseAddress!, count: count) }
        }
        return ok ? out : nil
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = [], chars = Array(hex.utf8)
        out.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        while chars.count >= 2 {
            out.append(nibble(chars[0]) << 4 | nibble(chars[1]))
            chars.removeFirst(2)
        }
        return out
    }

    /// Every supported type decodes gguf-py's blocks to exactly gguf-py's values.
    func testDequantizersMatchGGUFPy() throws {
        let fixture = try Fixture(url: fixtures.appendingPathComponent("gguf_blocks.json"))
        let names = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"]
        for name in names {
            let entry = try XCTUnwrap(fixture.params[name] as? [String: Any], name)
            let type = try XCTUnwrap(GGMLType(rawValue: UInt32(try XCTUnwrap(entry["type_id"] as? Int))))
            XCTAssertEqual(type.name, name)
            XCTAssertTrue(type.isSupported, name)
            let expected = try fixture.values(name)
            let raw = Self.bytes(hex: try XCTUnwrap(entry["hex"] as? String))
            XCTAssertEqual(type.byteCount(elements: expected.count), raw.count, "\(name): bytes for \(expected.count) values")
            let actual = try XCTUnwrap(dequantize(type, raw, count: expected.count), name)
            let firstDiff = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }
            XCTAssertNil(firstDiff, "\(name): value \(firstDiff?.offset ?? -1) is \(firstDiff?.element.0 ?? 0), gguf-py gives \(firstDiff?.element.1 ?? 0)")
        }
    }

    func testHandMadeQ8_0AndQ4Blocks() throws {
        // Q8_0: d = 0.5 (half 0x3800), qs = -128, -1, 0, 1, 127, then 0.
        var q8: [UInt8] = [0x00, 0x38, 0x80, 0xFF, 0x00, 0x01, 0x7F] + [UInt8](repeating: 0, count: 27)
        XCTAssertEqual(Array(try XCTUnwrap(dequantize(.q8_0, q8, count: 32)).prefix(6)), [-64, -0.5, 0, 0.5, 63.5, 0])
        q8[1] = 0  // d = 0
        XCTAssertEqual(try XCTUnwrap(dequantize(.q8_0, q8, count: 32)), [Float](repeating: 0, count: 32))
        // Q4_0: d = 2 (0x4000); byte j holds nibbles j (low, value j) and 15 - j (high, value 16 + j).
        let q4 = [0x00, 0x40] + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        let q4Values = try XCTUnwrap(dequantize(.q4_0, q4, count: 32))
        XCTAssertEqual(q4Values, (0..<16).map { Float(($0 - 8) * 2) } + (0..<16).map { Float((15 - $0 - 8) * 2) })
        // Q4_1: d = 1 (0x3C00), m = -0.5 (0xB800).
        let q41 = [0x00, 0x3C, 0x00, 0xB8] + Array(q4[2...])
        XCTAssertEqual(try XCTUnwrap(dequantize(.q4_1, q41, count: 32)),
                       (0..<16).map { Float($0) - 0.5 } + (0..<16).map { Float(15 - $0) - 0.5 })
    }

    /// Q4_K and Q5_K with chosen 6-bit scales and mins, packed by hand: sub-blocks 0-3 in the low 6
    /// bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 in bytes 8-11 (scale low nibble,
    /// min high nibble) plus the top two bits of bytes 0-3 (scales) and 4-7 (mins).
    func testHandPackedKQuantScales() throws {
        let scales: [UInt8] = [1, 2, 3, 4, 53, 17, 63, 40], mins: [UInt8] = [0, 5, 10, 15, 33, 62, 7, 20]
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            packed[j] = scales[j] | (scales[j + 4] >> 4) << 6
            packed[j + 4] = mins[j] | (mins[j + 4] >> 4) << 6
            packed[j + 8] = (scales[j + 4] & 0x0F) | (mins[j + 4] & 0x0F) << 4
        }
        // d = 0.5 (0x3800), dmin = 0.25 (0x3400); every quant byte 0x21: low nibble 1, high nibble 2.
        let q4K = [0x00, 0x38, 0x00, 0x34] + packed + [UInt8](repeating: 0x21, count: 128)
        let values = try XCTUnwrap(dequantize(.q4_K, q4K, count: 256))
        for s in 0..<8 {
            let q: Float = s % 2 == 0 ? 1 : 2
            let expected = 0.5 * Float(scales[s]) * q - 0.25 * Float(mins[s])
            XCTAssertEqual(Array(values[(32 * s)..<(32 * s + 32)]), [Float](repeating: expected, count: 32), "Q4_K sub-block \(s)")
        }
        // Q5_K: the same, plus qh bits: value l of sub-block s gets 16 when bit s of qh[l] is set.
        var qh = [UInt8](repeating: 0, count: 32)
        qh[3] = 0b0000_0101  // sub-blocks 0 and 2, value 3
        qh[31] = 0b1000_0000  // sub-block 7, value 31
        let q5K = [0x00, 0x38, 0x00, 0x34] + packed + qh + [UInt8](repeating: 0x21, count: 128)
        let v5 = try XCTUnwrap(dequantize(.q5_K, q5K, count: 256))
        for s in 0..<8 {
            for l in [0, 3, 31] {
                let high: Float = (s == 0 && l == 3) || (s == 2 && l == 3) || (s == 7 && l == 31) ? 16 : 0
                let q: Float = (s % 2 == 0 ? 1 : 2) + high
                XCTAssertEqual(v5[32 * s + l], 0.5 * Float(scales[s]) * q - 0.25 * Float(mins[s]), "Q5_K sub-block \(s) value \(l)")
            }
        }
    }

    func testHandMadeQ6_K() throws {
        // d = 1; scale k = k - 8 (negative ones too); all quants 0 except value 0 (ql nibble 5,
        // qh bits 2 -> q = 5 | 2 << 4 = 37) and value 200 (in the second half: l = 8, third quarter).
        var block = [UInt8](repeating: 0, count: 210)
        for k in 0..<16 { block[192 + k] = UInt8(bitPattern: Int8(k - 8)) }
        block[208] = 0x00; block[209] = 0x3C
        block[0] = 0x05; block[128] = 0x02
        block[64 + 8] = 0x90  // value 128 + 64 + 8: high nibble of ql[64 + 8] = 9
        block[128 + 32 + 8] = 0x30  // its top bits (qh >> 4) & 3 = 3 -> q = 9 | 3 << 4 = 57
        let values = try XCTUnwrap(dequantize(.q6_K, block, count: 256))
        for i in 0..<256 {
            let q: Float = i == 0 ? 37 : i == 200 ? 57 : 0
            XCTAssertEqual(values[i], Float(i / 16 - 8) * (q - 32), "Q6_K value \(i)")
        }
    }

    func testUnsupportedTypesAreNamed() throws {
        XCTAssertNil(dequantize(GGMLType(rawValue: 10)!, [UInt8](repeating: 0, count: 84), count: 256))
        XCTAssertFalse(GGMLType(rawValue: 16)!.isSupported)
        XCTAssertNil(GGMLType(rawValue: 4), "Q4_2 was removed from ggml")
        XCTAssertEqual(GGMLType.q4_K.byteCount(elements: 512), 288)
        XCTAssertNil(GGMLType.q4_K.byteCount(elements: 100))

        var builder = GGUFBuilder(architecture: "llama")
        builder.tensors.append(.init(name: "blk.0.ffn_up.weight", dims: [256, 1], type: 10, data: [UInt8](repeating: 0, count: 84)))
        let url = try builder.write(to: dir.appendingPathComponent("q2k.gguf"))
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.info("blk.0.ffn_up.weight")?.type.name, "Q2_K")
        XCTAssertThrowsError(try file.tensor("blk.0.ffn_up.weight")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("blk.0.ffn_up.weight") && message.contains("Q2_K") && message.contains("q2k.gguf"), message)
        }
    }

    // MARK: Files written by gguf-py

    func testMetadataOfEveryValueType() throws {
        let file = try GGUFFile(url: fixtures.appendingPathComponent("metadata_types.gguf"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.dataOffset % 32, 0)
        let m = file.metadata
        XCTAssertEqual(m["general.architecture"], .string("test"))
        XCTAssertEqual(m["test.u8"], .uint8(200))
        XCTAssertEqual(m["test.i8"], .int8(-100))
        XCTAssertEqual(m["test.u16"], .uint16(60000))
        XCTAssertEqual(m["test.i16"], .int16(-30000))
        XCTAssertEqual(m["test.u32"], .uint32(4_000_000_000))
        XCTAssertEqual(m["test.i32"], .int32(-2_000_000_000))
        XCTAssertEqual(m["test.f32"], .float32(0.25))
        XCTAssertEqual(m["test.u64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(m["test.i64"], .int64(-(1 << 62)))
        XCTAssertEqual(m["test.f64"], .float64(-1.5e300))
        XCTAssertEqual(m["test.bool"], .bool(true))
        XCTAssertEqual(m["test.string"], .string("héllo ✓"))
        XCTAssertEqual(try file.optionalStringArray("test.strings"), ["a", "", "bc"])
        XCTAssertEqual(try file.optionalFloatArray("test.floats"), [0.5, -2])
        XCTAssertEqual(m["test.nested"]?.array?.map { $0.array?.compactMap(\.int) }, [[1, 2], [3]])
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        XCTAssertNil(m["test.u64"]?.int, "2^63 + 5 does not fit in Int")
        XCTAssertThrowsError(try file.int("test.u64")) { XCTAssertTrue("\($0)".contains("UINT64 9223372036854775813"), "\($0)") }
        XCTAssertThrowsError(try file.int("test.string")) { XCTAssertTrue("\($0)".contains("expected an integer, got STRING"), "\($0)") }
        XCTAssertThrowsError(try file.string("test.missing")) { XCTAssertTrue("\($0)".contains("'test.missing': missing"), "\($0)") }

        let info = try XCTUnwrap(file.info("t"))
        XCTAssertEqual(info.dims, [3, 2])
        XCTAssertEqual(info.shape, [2, 3])
        XCTAssertEqual(try file.tensor("t").values, [0, 1, 2, 3, 4, 5])
    }

    /// The tiny models: every tensor under its Hugging Face name with gguf-py's values (checksums),
    /// Llama's q/k un-permuted (exact values), qwen2/qwen3 left alone, a custom alignment.
    func testTinyModelTensorsUnderHuggingFaceNames() throws {
        for arch in ["llama", "qwen2", "qwen3"] {
            let fixture = try Fixture(url: fixtures.appendingPathComponent("tiny_\(arch).json"))
            let checkpoint = try GGUFCheckpoint(url: fixtures.appendingPathComponent("tiny_\(arch).gguf"))
            XCTAssertEqual(checkpoint.architecture, arch)
            XCTAssertEqual(checkpoint.file.alignment, fixture.params["alignment"] as? Int, arch)
            let checksums = try XCTUnwrap(fixture.params["checksums"] as? [String: [Double]])
            XCTAssertEqual(checkpoint.names, checksums.keys.sorted(), "\(arch): tensor names")
            for (name, expected) in checksums {
                let values = try checkpoint.tensor(name).values.map(Double.init)
                let sum = values.reduce(0, +), squares = values.reduce(0) { $0 + $1 * $1 }
                XCTAssertEqual(sum, expected[0], accuracy: 1e-9 * max(1, expected[1]), "\(arch) \(name): sum")
                XCTAssertEqual(squares, expected[1], accuracy: 1e-9 * max(1, expected[1]), "\(arch) \(name): sum of squares")
            }
            for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.self_attn.k_proj.weight",
                         "model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.q_norm.weight", "model.norm.weight"] {
                guard let expected = try? fixture.tensor(name) else { continue }
                XCTAssertEqual(try checkpoint.tensor(name).shape, expected.shape, "\(arch) \(name)")
                XCTAssertEqual(try checkpoint.tensor(name).values, expected.values, "\(arch) \(name)")
            }
        }
    }

    func testTokenizerData() throws {
        let file = try GGUFFile(url: fixtures.appendingPathComponent("tiny_llama.gguf"))
        let data = try GGUFTokenizerData(file: file)
        XCTAssertEqual(data.model, "gpt2")
        XCTAssertEqual(data.pre, "smollm")
        XCTAssertEqual(data.tokens.count, 48)
        XCTAssertEqual(Array(data.tokens.prefix(4)), ["<unk>", "<s>", "</s>", "t0"])
        XCTAssertEqual(data.merges, ["t 1", "t 2", "t1 0"])
        XCTAssertEqual(data.tokenTypes?.prefix(4), [3, 3, 3, 1])
        XCTAssertEqual(data.bosTokenID, 1)
        XCTAssertEqual(data.eosTokenID, 2)
        XCTAssertEqual(data.paddingTokenID, 2)
        XCTAssertNil(data.scores)
        XCTAssertEqual(data.chatTemplate, "{% for m in messages %}{{ m['content'] }}{% endfor %}")

        var builder = GGUFBuilder(architecture: "llama")
        builder.add("tokenizer.ggml.model", .string("gpt2"))
        builder.add("tokenizer.ggml.tokens", .array(.string, [.string("a"), .string("b")]))
        builder.add("tokenizer.ggml.eos_token_id", .uint32(7))
        let bad = try GGUFFile(url: builder.write(to: dir.appendingPathComponent("tok.gguf")))
        XCTAssertThrowsError(try GGUFTokenizerData(file: bad)) {
            XCTAssertTrue("\($0)".contains("eos_token_id") && "\($0)".contains("7 is not a token id"), "\($0)")
        }
    }

    // MARK: Names and the Q/K permutation

    func testNameMapping() {
        let pairs = [
            ("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"), ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"),
            ("blk.12.attn_q.weight", "model.layers.12.self_attn.q_proj.weight"),
            ("blk.3.attn_q.bias", "model.layers.3.self_attn.q_proj.bias"),
            ("blk.3.attn_k.weight", "model.layers.3.self_attn.k_proj.weight"),
            ("blk.3.attn_v.bias", "model.layers.3.self_attn.v_proj.bias"),
            ("blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"),
            ("blk.3.attn_q_norm.weight", "model.layers.3.self_attn.q_norm.weight"),
            ("blk.3.attn_k_norm.weight", "model.layers.3.self_attn.k_norm.weight"),
            ("blk.29.ffn_norm.weight", "model.layers.29.post_attention_layernorm.weight"),
            ("blk.1.ffn_gate.weight", "model.layers.1.mlp.gate_proj.weight"),
            ("blk.1.ffn_up.weight", "model.layers.1.mlp.up_proj.weight"),
            ("blk.1.ffn_down.weight", "model.layers.1.mlp.down_proj.weight"),
        ]
        for (gguf, hf) in pairs {
            XCTAssertEqual(GGUFTensorNames.huggingFace(gguf), hf, gguf)
            XCTAssertEqual(GGUFTensorNames.llamaCpp(hf), gguf, hf)
        }
        for name in ["blk.x.attn_q.weight", "blk.-1.attn_q.weight", "blk.1.attn_q.scale", "blk.1.attn_qkv.weight",
                     "rope_freqs.weight", "blk.1.attn_q.weight.extra", "blk..attn_q.weight"] {
            XCTAssertNil(GGUFTensorNames.huggingFace(name), name)
        }
        XCTAssertNil(GGUFTensorNames.llamaCpp("model.layers.1.self_attn.rotary_emb.inv_freq"))
    }

    /// The converter's permutation written out by hand: head h's row j * D/2 + i moves to 2i + j.
    static func handPermuted(_ w: [Float], heads: Int, columns: Int) -> [Float] {
        let rows = w.count / columns, d = rows / heads
        var out = [Float](repeating: 0, count: w.count)
        for h in 0..<heads {
            for j in 0..<2 {
                for i in 0..<(d / 2) {
                    for c in 0..<columns { out[(h * d + 2 * i + j) * columns + c] = w[(h * d + j * d / 2 + i) * columns + c] }
                }
            }
        }
        return out
    }

    func testLlamaQKRowsAreUnpermutedOthersNot() throws {
        let (heads, kvHeads, d, c) = (2, 1, 4, 3)
        let q = (0..<(heads * d * c)).map { Float($0) }, qBias = (0..<(heads * d)).map { Float(100 + $0) }
        let k = (0..<(kvHeads * d * c)).map { Float(-$0) }
        // Head 0 of a D = 4 q: rows [0, 1, 2, 3] are stored as [0, 2, 1, 3].
        XCTAssertEqual(Self.handPermuted(qBias, heads: heads, columns: 1), [100, 102, 101, 103, 104, 106, 105, 107])
        for arch in ["llama", "qwen2"] {
            var builder = GGUFBuilder(architecture: arch)
            builder.add("\(arch).attention.head_count", .uint32(UInt32(heads)))
            builder.add("\(arch).attention.head_count_kv", .uint32(UInt32(kvHeads)))
            builder.addF32("blk.0.attn_q.weight", shape: [heads * d, c], values: Self.handPermuted(q, heads: heads, columns: c))
            builder.addF32("blk.0.attn_q.bias", shape: [heads * d], values: Self.handPermuted(qBias, heads: heads, columns: 1))
            builder.addF32("blk.0.attn_k.weight", shape: [kvHeads * d, c], values: Self.handPermuted(k, heads: kvHeads, columns: c))
            builder.addF32("blk.0.attn_v.weight", shape: [kvHeads * d, c], values: k)
            let checkpoint = try GGUFCheckpoint(url: builder.write(to: dir.appendingPathComponent("\(arch).gguf")))
            let unpermute = arch == "llama"
            XCTAssertEqual(try checkpoint.tensor("model.layers.0.self_attn.q_proj.weight").values,
                           unpermute ? q : Self.handPermuted(q, heads: heads, columns: c), arch)
            XCTAssertEqual(try checkpoint.tensor("model.layers.0.self_attn.q_proj.bias").values,
                           unpermute ? qBias : Self.handPermuted(qBias, heads: heads, columns: 1), arch)
            XCTAssertEqual(try checkpoint.tensor("model.layers.0.self_attn.k_proj.weight").values,
                           unpermute ? k : Self.handPermuted(k, heads: kvHeads, columns: c), arch)
            XCTAssertEqual(try checkpoint.tensor("model.layers.0.self_attn.v_proj.weight").values, k, "v is never permuted")
            XCTAssertEqual(try checkpoint.tensor("model.layers.0.self_attn.q_proj.weight").shape, [heads * d, c])
            var buffer = [Float](repeating: 0, count: kvHeads * d * c)
            XCTAssertThrowsError(try buffer.withUnsafeMutableBufferPointer {
                try checkpoint.read("model.layers.0.self_attn.v_proj.weight", expectedShape: [c, kvHeads * d], into: $0.baseAddress!)
            }) {
                XCTAssertTrue("\($0)".contains("\(arch).gguf: tensor 'model.layers.0.self_attn.v_proj.weight (GGUF blk.0.attn_v.weight)': shape [4, 3], expected [3, 4]"), "\($0)")
            }
        }
        var six = [Float](repeating: 0, count: 6)
        XCTAssertFalse(six.withUnsafeMutableBufferPointer { GGUFTensorNames.unpermuteRows($0.baseAddress!, rows: 6, columns: 1, heads: 2) },
                       "6 rows are not whole pairs of 2 heads")
    }

    // MARK: Corrupt and truncated files

    /// Opening (and reading every tensor of) `bytes` fails with a ModelIOError that names the
    /// file and contains `fragment`.
    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = dir.appendingPathComponent("bad-\(line).gguf")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try { let f = try GGUFFile(url: url); for n in f.names { _ = try f.tensor(n) } }(),
                             file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(error is ModelIOError, "not a ModelIOError: \(error)", file: file, line: line)
            XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertTrue(message.contains(url.lastPathComponent), "'\(message)' does not name the file", file: file, line: line)
        }
    }

    func validBuilder() -> GGUFBuilder {
        var b = GGUFBuilder(architecture: "llama")
        b.add("general.name", .string("tiny"))
        b.addF32("output_norm.weight", shape: [4], values: [1, 2, 3, 4])
        return b
    }

    func testHeaderErrors() throws {
        XCTAssertNoThrow(try GGUFFile(url: validBuilder().write(to: dir.appendingPathComponent("ok.gguf"))))
        try expectError([], "less than the 24-byte GGUF header")
        var b = validBuilder()
        b.magic = Array("GGUX".utf8)
        try expectError(b.bytes(), "bad magic 'GGUX'")
        b = validBuilder(); b.version = 1
        try expectError(b.bytes(), "unsupported GGUF version 1")
        b.version = 4
        try expectError(b.bytes(), "unsupported GGUF version 4")
        b.version = UInt32(3).byteSwapped
        try expectError(b.bytes(), "big-endian")
        b = validBuilder(); b.tensorCount = 1 << 40
        try expectError(b.bytes(), "header claims 1099511627776 tensors")
        b = validBuilder(); b.metadataCount = UInt64.max
        try expectError(b.bytes(), "metadata count at byte 16 is 18446744073709551615, too large")
        b = validBuilder(); b.metadataCount = 40
        try expectError(b.bytes(), "header claims 1 tensors and 40 metadata entries, more than the")
    }

    func testMetadataErrors() throws {
        var bytes = validBuilder().bytes()
        bytes.replaceSubrange(24..<32, with: [0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0, 0])  // key 0's length
        try expectError(bytes, "key of metadata entry 0 at byte 24 claims 268435455 bytes")
        var b = validBuilder(); b.add("x", .array(.string, [.string("a")]))
        bytes = b.bytes()
        let countAt = try XCTUnwrap(findBytes(bytes, Array("x".utf8) + [9, 0, 0, 0, 8, 0, 0, 0])) + 9
        bytes.replaceSubrange(countAt..<(countAt + 8), with: [0, 0, 0, 0, 1, 0, 0, 0])
        try expectError(bytes, "metadata 'x' at byte \(countAt) claims 4294967296 STRING elements")
        b = validBuilder(); b.add("bad", .uint8(1))
        bytes = b.bytes()
        let typeAt = try XCTUnwrap(findBytes(bytes, Array("bad".utf8))) + 3
        bytes[typeAt] = 13
        try expectError(bytes, "metadata 'bad' at byte \(typeAt) has unknown value type 13")
        b = validBuilder(); b.add("general.name", .string("again"))
        try expectError(b.bytes(), "duplicate metadata key 'general.name'")
        var nested = GGUFValue.array(.uint8, [.uint8(1)])
        for _ in 0..<9 { nested = .array(.array, [nested]) }
        b = validBuilder(); b.add("deep", nested)
        try expectError(b.bytes(), "nests arrays more than 8 deep")
        b = validBuilder(); b.add("general.alignment", .uint32(3))
        try expectError(b.bytes(), "general.alignment is UINT32 3, expected a power of two")
        b = validBuilder(); b.add("s", .string("abc"))
        bytes = b.bytes()
        try expectError(Array(bytes.prefix(try XCTUnwrap(findBytes(bytes, Array("abc".utf8))) + 1)), "metadata 's'")
    }

    func testTensorInfoErrors() throws {
        var b = validBuilder()
        b.tensors[0].dims = [1, 1, 1, 1, 4]
        try expectError(b.bytes(), "tensor 'output_norm.weight' has 5 dimensions, at most 4 allowed")
        b = validBuilder(); b.tensors[0].dims = [1 << 32, 1 << 32]
        try expectError(b.bytes(), "dimensions [4294967296, 4294967296] overflow the element count")
        b = validBuilder(); b.tensors[0].dims = [UInt64.max]
        try expectError(b.bytes(), "dimension 0 is 18446744073709551615, too large")
        b = validBuilder(); b.tensors[0].offset = 4
        try expectError(b.bytes(), "tensor 'output_norm.weight' data offset 4 is not a multiple of the alignment 32")
        b = validBuilder(); b.tensors[0].type = 99
        try expectError(b.bytes(), "tensor 'output_norm.weight': unknown ggml type id 99")
        b = validBuilder(); b.tensors[0].type = 8; b.tensors[0].dims = [16, 2]
        try expectError(b.bytes(), "rows of 16 values are not whole Q8_0 blocks of 32")
        b = validBuilder(); b.tensors[0].dims = [4, 1 << 40]
        try expectError(b.bytes(), "runs past the end of the 16 data bytes")
        b = validBuilder(); b.tensors[0].offset = 1 << 62
        try expectError(b.bytes(), "runs past the end")
        b = validBuilder(); b.addF32("output_norm.weight", shape: [1], values: [0])
        try expectError(b.bytes(), "duplicate tensor name 'output_norm.weight'")
        // Data truncated: the last tensor's 16 bytes cut to 8.
        try expectError(Array(validBuilder().bytes().dropLast(8)), "tensor 'output_norm.weight' data [0, 16) runs past the end of the 8 data bytes")
    }

    func findBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    /// Every prefix of a file that cuts into its header or tensor data is rejected with a
    /// ModelIOError; none crashes: every length through the header, a sample through the data.
    func testEveryTruncationIsATypedError() throws {
        for name in ["metadata_types.gguf", "tiny_llama.gguf"] {
            let original = try Array(Data(contentsOf: fixtures.appendingPathComponent(name)))
            let file = try GGUFFile(url: fixtures.appendingPathComponent(name))
            let dataEnd = file.dataOffset + file.tensors.map { $0.offset + $0.byteCount }.max()!
            let url = dir.appendingPathComponent("truncated-\(name)")
            var lengths = Array(0..<min(file.dataOffset + 64, dataEnd))
            lengths += stride(from: file.dataOffset + 64, to: dataEnd, by: 997)
            lengths.append(dataEnd - 1)
            try Data(original.prefix(dataEnd)).write(to: url)
            XCTAssertNoThrow(try GGUFFile(url: url), "\(name) without its final padding")
            // One copy cut shorter and shorter (Data.write syncs to disk, too slow for each length).
            for n in Set(lengths).sorted(by: >) {
                XCTAssertEqual(truncate(url.path, off_t(n)), 0)
                XCTAssertThrowsError(try GGUFFile(url: url), "\(name): prefix of \(n) bytes") { error in
                    XCTAssertTrue(error is ModelIOError, "\(name): prefix of \(n) bytes: \(error)")
                }
            }
        }
    }

    /// Seeded random byte changes in the header: opening and reading all tensors either works or
    /// throws a ModelIOError.
    func testRandomCorruptionNeverCrashes() throws {
        let original = try Array(Data(contentsOf: fixtures.appendingPathComponent("tiny_qwen2.gguf")))
        let headerEnd = try GGUFFile(url: fixtures.appendingPathComponent("tiny_qwen2.gguf")).dataOffset
        var rng = SeededGenerator(seed: 11)
        let url = dir.appendingPathComponent("fuzz.gguf")
        var rejected = 0
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + rng.nextInt(below: 3)) {
                let at = rng.nextInt(below: headerEnd)
                bytes[at] = [0x00, 0xFF, 0x7F, 0x80, UInt8(rng.nextInt(below: 256))][rng.nextInt(below: 5)]
            }
            try Data(bytes).write(to: url)
            do {
                let file = try GGUFFile(url: url)
                for name in file.names {
                    do { _ = try file.tensor(name) } catch { XCTAssertTrue(error is ModelIOError, "\(error)") }
                }
            } catch {
                XCTAssertTrue(error is ModelIOError, "\(error)")
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 50, "most corruptions of the header are detected")
    }
}
