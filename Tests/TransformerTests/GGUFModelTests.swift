import Foundation
import TestSupport
import XCTest
@testable import ModelIO
@testable import TensorCore
@testable import Transformer

/// Decoders loaded from the tiny GGUF fixtures (Tests/ModelIOTests/Fixtures, written by
/// Scripts/make_gguf_fixtures.py): the config read from metadata and the logits against transformers
/// loading the same files.
final class GGUFModelTests: XCTestCase {
    /// The GGUF fixtures live beside the reader's tests.
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelIOTests/Fixtures")

    func testTinyModelsMatchTransformers() throws {
        for arch in ["llama", "qwen2", "qwen3"] {
            let fixture = try Fixture(url: fixtures.appendingPathComponent("tiny_\(arch).json"))
            let model = try GGUFModel.load(url: fixtures.appendingPathComponent("tiny_\(arch).gguf"))
            let c = model.config, p = fixture.params
            XCTAssertEqual(c.modelType, arch)
            XCTAssertEqual(c.vocabSize, p["vocab_size"] as? Int, arch)
            XCTAssertEqual(c.hiddenSize, p["hidden_size"] as? Int, arch)
            XCTAssertEqual(c.intermediateSize, p["intermediate_size"] as? Int, arch)
            XCTAssertEqual(c.layerCount, p["num_hidden_layers"] as? Int, arch)
            XCTAssertEqual(c.headCount, p["num_attention_heads"] as? Int, arch)
            XCTAssertEqual(c.kvHeadCount, p["num_key_value_heads"] as? Int, arch)
            XCTAssertEqual(c.headDim, p["head_dim"] as? Int, arch)
            XCTAssertEqual(c.maxPositionEmbeddings, p["max_position_embeddings"] as? Int, arch)
            XCTAssertEqual(c.tieWordEmbeddings, p["tie_word_embeddings"] as? Bool, arch)
            XCTAssertEqual(Double(c.rmsNormEps), try XCTUnwrap(p["rms_norm_eps"] as? Double), accuracy: 1e-12, arch)
            XCTAssertEqual(Double(c.ropeTheta), try XCTUnwrap(p["rope_theta"] as? Double), arch)
            XCTAssertEqual(c.qkvBias, arch == "qwen2", arch)
            XCTAssertEqual(c.qkNorm, arch == "qwen3", arch)
            XCTAssertEqual(c.bosTokenID, 1)
            XCTAssertEqual(c.eosTokenIDs, [2])
            XCTAssertEqual(c.padTokenID, 2)

            let sequences = try XCTUnwrap(p["sequences"] as? [[Int]])
            for (i, ids) in sequences.enumerated() {
                let batch = DecoderModel.Batch(ids: ids.map(Int32.init), positions: (0..<ids.count).map(Int32.init),
                                               batch: 1, time: ids.count)
                let logits = model.logits(Tape(recording: false), batch)  // (1, T, V)
                assertClose(logits.values, try fixture.values("logits_\(i)"), tolerance: 1e-5, "\(arch) logits of sequence \(i)")
            }
        }
    }

    /// The real SmolLM2-135M-Instruct (Q4_1 and Q8_0 tensors), when `make smollm2` has fetched it;
    /// its logits against transformers are checked by Scripts/check_gguf_parity.py.
    func testSmolLM2LoadsWhenPresent() throws {
        let url = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "run `make smollm2` to fetch \(url.lastPathComponent)")
        let start = Date()
        let file = try GGUFFile(url: url)
        print("SmolLM2: GGUF header and metadata read in \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertEqual(Dictionary(grouping: file.tensors, by: \.type.name).mapValues(\.count), ["Q4_1": 210, "F32": 61, "Q8_0": 1])
        let tokenizer = try GGUFTokenizerData(file: file)
        XCTAssertEqual(tokenizer.model, "gpt2")
        XCTAssertEqual(tokenizer.pre, "smollm")
        XCTAssertEqual(tokenizer.tokens.count, 49152)
        XCTAssertEqual(tokenizer.merges.count, 48900)
        XCTAssertEqual(tokenizer.tokens[1], "<|im_start|>")
        XCTAssertEqual([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.paddingTokenID], [1, 2, 2])
        XCTAssertTrue(tokenizer.chatTemplate?.contains("<|im_start|>assistant") ?? false)

        let loadStart = Date()
        let model = try GGUFModel.load(url: url)
        print("SmolLM2: model loaded in \(Int(Date().timeIntervalSince(loadStart) * 1000)) ms")
        let c = model.config
        XCTAssertEqual(c, DecoderConfig(modelType: "llama", vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30,
                                        headCount: 9, kvHeadCount: 3, headDim: 64, rmsNormEps: 1e-5, ropeTheta: 100_000,
                                        tieWordEmbeddings: true, maxPositionEmbeddings: 8192, bosTokenID: 1, eosTokenIDs: [2],
                                        padTokenID: 2))
        XCTAssertEqual(c.parameterCount, 134_515_008)
        let firstBad = model.parameters.values.buffer.firstIndex { !$0.isFinite }
        XCTAssertNil(firstBad, "non-finite parameter at flat index \(firstBad ?? -1)")
    }

    /// Loading tiny_llama.gguf with the first occurrence of `find` replaced by `replacement` (same
    /// length) fails with a ModelIOError whose message names the file and contains `fragment`.
    func expectLoadError(replacing find: [UInt8], with replacement: [UInt8], _ fragment: String,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        var bytes = try Data(contentsOf: fixtures.appendingPathComponent("tiny_llama.gguf"))
        let range = try XCTUnwrap(bytes.range(of: Data(find)), file: file, line: line)
        bytes.replaceSubrange(range, with: Data(replacement))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-gguf-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try bytes.write(to: url)
        XCTAssertThrowsError(try GGUFModel.load(url: url), file: file, line: line) { error in
            XCTAssertTrue(error is ModelIOError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertTrue("\(error)".contains(url.lastPathComponent), "'\(error)' does not name the file", file: file, line: line)
        }
    }

    /// A file whose architecture is not supported, that lacks a tensor the model needs, or that has
    /// one it does not use, gives a typed error naming it.
    func testUnsupportedArchitectureMissingAndUnusedTensors() throws {
        // The first "llama" in the file is general.architecture's value; keys follow it.
        try expectLoadError(replacing: Array("llama".utf8), with: Array("gemma".utf8),
                            "general.architecture 'gemma' (supported: 'llama', 'qwen2', 'qwen3')")
        // Renaming a tensor leaves its Hugging Face counterpart missing.
        try expectLoadError(replacing: Array("output_norm.weight".utf8), with: Array("output_nrom.weight".utf8),
                            "tensor 'model.norm.weight (GGUF output_norm.weight)' not found")
        // Without 'output.weight' the head is tied to the embedding, and a renamed copy is unused.
        // (Searched with its u64 length in front, as "blk.N.attn_output.weight" contains it.)
        let length: [UInt8] = [13, 0, 0, 0, 0, 0, 0, 0]
        try expectLoadError(replacing: length + Array("output.weight".utf8), with: length + Array("outpux.weight".utf8),
                            "1 tensor(s) not used by the model: 'outpux.weight'")
        // Sizes in the metadata that disagree with the tensors fail before the model is allocated.
        let layers = Array("llama.block_count".utf8) + [4, 0, 0, 0]  // key, UINT32
        try expectLoadError(replacing: layers + [3, 0, 0, 0], with: layers + [0xE7, 0x03, 0, 0],
                            "field 'llama.block_count': 999 layers, but the file has 30 tensors")
        try expectLoadError(replacing: layers + [3, 0, 0, 0], with: layers + [0xFF, 0xFF, 0xFF, 0x7F],
                            "field 'num_hidden_layers': must be at most 1000, got 2147483647")
        let hidden = Array("llama.embedding_length".utf8) + [4, 0, 0, 0]
        try expectLoadError(replacing: hidden + [32, 0, 0, 0], with: hidden + [64, 0, 0, 0],
                            "tensor 'model.embed_tokens.weight (GGUF token_embd.weight)': shape [48, 32], expected [48, 64]")
        // Found by `grpo fuzz gguf`: a NaN epsilon reached the config's JSON round trip as Foundation's
        // "Invalid number value (nan) in JSON write", naming no file.
        let eps = Array("llama.attention.layer_norm_rms_epsilon".utf8) + [6, 0, 0, 0]  // key, FLOAT32
        let file = try Data(contentsOf: fixtures.appendingPathComponent("tiny_llama.gguf"))
        let start = try XCTUnwrap(file.range(of: Data(eps))).upperBound
        try expectLoadError(replacing: eps + Array(file[start..<(start + 4)]), with: eps + [0, 0, 0xC0, 0x7F],
                            "field 'llama.attention.layer_norm_rms_epsilon': expected a finite number, got FLOAT32 nan")
    }
}
