import Foundation
import ModelIO
import TensorCore
import TestSupport
import XCTest
@testable import Transformer

/// Config parsing (both transformers styles), loader checks with named errors, and save/reload.
final class CheckpointTests: XCTestCase {
    static let fixtures = TransformersParityTests.fixtures
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A copy of a fixture folder whose config.json is edited by `edit`.
    func fixtureCopy(_ family: String, edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let copy = dir.appendingPathComponent(family + "-\(UUID().uuidString.prefix(6))")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(family), to: copy)
        let url = copy.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return copy
    }

    func expectLoadError(_ folder: URL, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelCheckpoint.load(directory: folder), file: file, line: line) { error in
            for fragment in fragments {
                XCTAssertTrue("\(error)".contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
            }
        }
    }

    func testBothConfigStylesReadTheSame() throws {
        let v5 = try ModelFamilies.config(at: Self.fixtures.appendingPathComponent("llama/config.json"))
        let v4 = try ModelFamilies.config(at: Self.fixtures.appendingPathComponent("llama_v4_config.json"))
        XCTAssertEqual(v4, v5)
        XCTAssertEqual(v5.headDim, 8)
        XCTAssertTrue(v5.qkvBias && v5.outputBias && !v5.mlpBias)
        let qwen2 = try ModelFamilies.config(at: Self.fixtures.appendingPathComponent("qwen2/config.json"))
        XCTAssertTrue(qwen2.qkvBias && !qwen2.outputBias && qwen2.tieWordEmbeddings)
        XCTAssertEqual(qwen2.ropeTheta, 1_000_000)
        let qwen3 = try ModelFamilies.config(at: Self.fixtures.appendingPathComponent("qwen3/config.json"))
        XCTAssertTrue(qwen3.qkNorm && !qwen3.qkvBias)
        XCTAssertEqual(qwen3.headDim, 16)
    }

    func testUnsupportedOptionsAreNamed() throws {
        expectLoadError(try fixtureCopy("llama") { $0["model_type"] = "gpt2" }, ["model_type", "'gpt2'", "'llama'"])
        expectLoadError(try fixtureCopy("llama") { $0["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 1e4] },
                        ["rope_type", "'yarn'"])
        expectLoadError(try fixtureCopy("llama") {
            $0["rope_parameters"] = nil
            $0["rope_scaling"] = ["type": "linear", "factor": 2.0]
        }, ["rope_scaling", "'linear'"])
        expectLoadError(try fixtureCopy("qwen2") { $0["hidden_act"] = "gelu" }, ["hidden_act", "'gelu'"])
        expectLoadError(try fixtureCopy("qwen3") { $0["use_sliding_window"] = true }, ["use_sliding_window"])
        expectLoadError(try fixtureCopy("qwen2") { $0["num_key_value_heads"] = 3 }, ["num_key_value_heads", "does not divide"])
        expectLoadError(try fixtureCopy("qwen2") { $0["hidden_size"] = "wide" }, ["hidden_size", "expected an integer"])
    }

    /// Sizes from a hostile config.json are bounded before anything is allocated from them, and
    /// RoPE settings the decoder would not honour are refused, each by field with its limit.
    func testHostileSizesAndRopeSettingsAreRefused() throws {
        expectLoadError(try fixtureCopy("llama") { $0["vocab_size"] = 1_000_000_000_000 },
                        ["vocab_size", "at most 16777216 (2^24), got 1000000000000"])
        expectLoadError(try fixtureCopy("llama") { $0["vocab_size"] = 1 << 62 }, ["vocab_size", "at most 16777216"])
        expectLoadError(try fixtureCopy("llama") { $0["intermediate_size"] = 1 << 40 }, ["intermediate_size", "at most 16777216"])
        expectLoadError(try fixtureCopy("llama") { $0["num_hidden_layers"] = 1_000_000_000 },
                        ["num_hidden_layers", "at most 1000, got 1000000000"])
        // Each size within its limit, the whole beyond any machine's memory: 2^24 x 2^16 x 3 per layer.
        expectLoadError(try fixtureCopy("qwen2") {
            $0["intermediate_size"] = 1 << 24
            $0["hidden_size"] = 1 << 16
        }, ["parameters", "GiB of physical memory", "intermediate_size 16777216"])
        XCTAssertThrowsError(try DecoderConfig.checkSizes(
            DecoderConfig(modelType: "qwen2", vocabSize: 1000, hiddenSize: 64, intermediateSize: 128, layerCount: 2, headCount: 4,
                          kvHeadCount: 2), sizes: [], file: "c.json", memoryBytes: 1 << 16)) {
            XCTAssertTrue("\($0)".contains("more than this machine's 0.0 GiB"), "\($0)")
        }
        expectLoadError(try fixtureCopy("llama") { $0["max_position_embeddings"] = 0 }, ["max_position_embeddings", "must be positive, got 0"])
        expectLoadError(try fixtureCopy("llama") { $0["rope_parameters"] = ["rope_type": "default", "rope_theta": 0.0] },
                        ["rope_theta", "finite number > 0, got 0.0"])
        expectLoadError(try fixtureCopy("llama") {
            $0["rope_parameters"] = nil
            $0["rope_theta"] = -5.0
        }, ["rope_theta", "got -5.0"])
        // rms_norm_eps beyond float32 became +inf, and a negative one was taken as given.
        expectLoadError(try fixtureCopy("llama") { $0["rms_norm_eps"] = 1e300 }, ["rms_norm_eps", "finite number >= 0, got 1e+300"])
        expectLoadError(try fixtureCopy("llama") { $0["rms_norm_eps"] = -1e-6 }, ["rms_norm_eps", "got -1e-06"])
        // A saved folder has rope_parameters; rope_scaling added beside it is not ignored.
        expectLoadError(try fixtureCopy("qwen2") { $0["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0] },
                        ["rope_scaling.rope_type", "'yarn'", "not implemented"])
    }

    func testLoaderChecksEveryTensor() throws {
        // A config that expects biases the file lacks: the missing tensor is named.
        expectLoadError(try fixtureCopy("qwen3") { $0["attention_bias"] = true }, ["model.layers.0.self_attn.q_proj.bias", "not found"])
        // A config that disagrees with a tensor's shape.
        expectLoadError(try fixtureCopy("qwen2") { $0["intermediate_size"] = 48 },
                        ["tensor 'model.layers.0.mlp.gate_proj.weight' has shape [64, 32], expected [48, 32]"])
        // A file tensor the model does not use.
        expectLoadError(try fixtureCopy("llama") { $0["attention_bias"] = false }, ["not used by the model", "o_proj.bias"])
        // A tied model accepts an lm_head copy; an untied one needs it.
        expectLoadError(try fixtureCopy("qwen2") { $0["tie_word_embeddings"] = false }, ["lm_head.weight", "not found"])
    }

    func testSaveAndReloadGiveTheSameLogits() throws {
        for family in ["llama", "qwen2", "qwen3"] {
            let model = try ModelCheckpoint.load(directory: Self.fixtures.appendingPathComponent(family))
            let out = dir.appendingPathComponent("saved-\(family)")
            try ModelCheckpoint.save(model, to: out)
            for file in ["config.json", "model.safetensors", "generation_config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(family): \(file)")
            }
            let reloaded = try ModelCheckpoint.load(directory: out)
            XCTAssertEqual(reloaded.config, model.config)
            let batch = DecoderModel.Batch(ids: [3, 17, 40, 2, 9, 11], attentionMask: [0, 1, 1, 1, 1, 1], batch: 1, time: 6)
            XCTAssertEqual(reloaded.logits(Tape(recording: false), batch).values, model.logits(Tape(recording: false), batch).values)
            // bf16 halves the file and stays close.
            let half = dir.appendingPathComponent("bf16-\(family)")
            try ModelCheckpoint.save(model, to: half, dtype: .bf16)
            let a = reloaded.logits(Tape(recording: false), batch).values
            let b = try ModelCheckpoint.load(directory: half).logits(Tape(recording: false), batch).values
            XCTAssertLessThan(relativeError(b, a), 0.05, "\(family): bf16 logits")
        }
    }

    func testInitializationIsDeterministic() {
        let config = DecoderConfig(modelType: "qwen2", vocabSize: 50, hiddenSize: 16, intermediateSize: 32, layerCount: 2,
                                   headCount: 4, kvHeadCount: 2, tieWordEmbeddings: true, qkvBias: true)
        let a = DecoderModel(config: config), b = DecoderModel(config: config)
        a.initialize(seed: 5)
        b.initialize(seed: 5)
        XCTAssertEqual(Array(a.parameters.values.buffer), Array(b.parameters.values.buffer))
        XCTAssertEqual(a.parameters["model.norm.weight"]!.values, [Float](repeating: 1, count: 16))
        XCTAssertEqual(a.parameters["model.layers.0.self_attn.q_proj.bias"]!.values, [Float](repeating: 0, count: 16))
    }
}
