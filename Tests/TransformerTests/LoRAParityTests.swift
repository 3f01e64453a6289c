import Foundation
import ModelIO
import TensorCore
import TestSupport
import XCTest
@testable import Transformer

/// LoRA against PEFT on the tiny checkpoints (Scripts/make_lora_fixtures.py): PEFT's saved adapter
/// loads; logits with and without the adapter, the loss, every A and B gradient and the logits
/// after one AdamW step on the adapters equal PEFT's; the base gets no gradient; decoding with a
/// KV cache, merging and a save/load round trip agree with the adapted forward.
final class LoRAParityTests: XCTestCase {
    let parity = TransformersParityTests.self

    struct Case {
        let base: DecoderModel
        let model: DecoderModel
        let reference: TransformersParityTests.Reference
        let batch: DecoderModel.Batch
        let mask: [Int32]
        let folder: URL
    }

    func load(_ name: String) throws -> Case {
        let folder = TransformersParityTests.fixtures.appendingPathComponent("lora_" + name)
        let (spec, written) = try AdapterCheckpoint.readConfig(folder)
        let base = try ModelCheckpoint.load(directory: URL(fileURLWithPath: AdapterCheckpoint.basePath(written, adapter: folder)))
        base.parameters.freeze()
        let adapters = try AdapterCheckpoint.loadAdapters(folder, spec: spec, config: base.config)
        let reference = TransformersParityTests.Reference(file: try SafeTensorsFile(url: folder.appendingPathComponent("expected.safetensors")))
        let expected = TransformersParityTests.Reference(
            file: try SafeTensorsFile(url: TransformersParityTests.fixtures.appendingPathComponent(name).appendingPathComponent("expected.safetensors")))
        let shape = expected.file.info("ids")!.shape
        let mask = try expected.ints("attention_mask")
        let batch = DecoderModel.Batch(ids: try expected.ints("ids"), attentionMask: mask, batch: shape[0], time: shape[1])
        return Case(base: base, model: DecoderModel(base: base, adapters: adapters), reference: reference, batch: batch, mask: mask, folder: folder)
    }

    func check(_ name: String, scaling: Float, targets: Int) throws {
        let c = try load(name)
        let (b, t, vocab) = (c.batch.batch, c.batch.time, c.model.config.vocabSize)
        XCTAssertEqual(c.model.adapters?.spec.scaling, scaling, "\(name): scaling")
        XCTAssertEqual(c.model.trainable.tensors.count, 2 * targets * c.model.config.layerCount, "\(name): adapter tensors")

        let base = c.model.withoutAdapters.logits(Tape(recording: false), c.batch).values
        XCTAssertLessThanOrEqual(parity.maxAbsDifference(base, try c.reference.values("logits_base"), mask: c.mask, vocab: vocab), 1e-4,
                                 "\(name): logits with the adapters off")
        let tape = Tape()
        let logits = c.model.logits(tape, c.batch)
        XCTAssertLessThanOrEqual(parity.maxAbsDifference(logits.values, try c.reference.values("logits"), mask: c.mask, vocab: vocab), 1e-4,
                                 "\(name): logits with the adapters")
        let loss = tape.crossEntropy(logits: logits, targets: parity.targets(ids: c.batch.ids, mask: c.mask, batch: b, time: t))
        XCTAssertEqual(loss.scalar, try c.reference.values("loss")[0], accuracy: 1e-5, "\(name): loss")
        c.model.trainable.zeroGrad()
        tape.backward(loss)
        for p in c.model.trainable.tensors {
            XCTAssertLessThanOrEqual(relativeError(p.gradValues, try c.reference.values("grad." + p.name)), 1e-3, "\(name): gradient of \(p.name)")
        }
        let baseGradients = UnsafeBufferPointer(start: c.base.parameters.grads.pointer, count: c.base.parameters.count)
        XCTAssertTrue(baseGradients.allSatisfy { $0 == 0 }, "\(name): the frozen base takes no gradient")

        AdamW(c.model.trainable, config: .init(eps: 1e-8, weightDecay: 0.01)).update(lr: 1e-2)
        let after = c.model.logits(Tape(recording: false), c.batch).values
        XCTAssertLessThanOrEqual(parity.maxAbsDifference(after, try c.reference.values("logits_after_step"), mask: c.mask, vocab: vocab), 1e-4,
                                 "\(name): logits after one AdamW step on the adapters")
    }

    func testLlamaAllLinearAgainstPEFT() throws { try check("llama", scaling: 2, targets: 7) }
    func testQwen3RSLoRAAgainstPEFT() throws { try check("qwen3", scaling: 4, targets: 3) }

    func testDecodeWithAdaptersEqualsTheFullForward() throws {
        let c = try load("llama")
        let prompt: [Int32] = [5, 9, 14, 3, 40, 2]
        let full = c.model.logits(Tape(recording: false), DecoderModel.Batch(ids: prompt, positions: (0..<6).map(Int32.init), batch: 1, time: 6)).values
        let cache = KVCache(config: c.model.config, rows: 1, capacity: 8)
        let prefill = c.model.prefill(DecoderModel.Batch(ids: Array(prompt.prefix(4)), positions: [0, 1, 2, 3], batch: 1, time: 4), cache: cache)
        let vocab = c.model.config.vocabSize
        XCTAssertLessThanOrEqual(zip(prefill.values, full[(3 * vocab)..<(4 * vocab)]).map { abs($0 - $1) }.max()!, 1e-5, "prefill")
        for step in 4..<6 {
            let logits = c.model.decodeStep(cache: cache, rows: [0], tokens: [prompt[step]], positions: [Int32(step)]).values
            XCTAssertLessThanOrEqual(zip(logits, full[(step * vocab)..<((step + 1) * vocab)]).map { abs($0 - $1) }.max()!, 1e-5, "decode step \(step)")
        }
    }

    func testMergedWeightsGiveTheAdaptedLogits() throws {
        let c = try load("llama")
        let adapted = c.model.logits(Tape(recording: false), c.batch).values
        AdapterCheckpoint.merge(c.model.adapters!, into: c.base)
        let merged = c.base.logits(Tape(recording: false), c.batch).values
        XCTAssertLessThanOrEqual(parity.maxAbsDifference(merged, adapted, mask: c.mask, vocab: c.base.config.vocabSize), 1e-4)
    }

    func testSavedAdapterLoadsBackTheSame() throws {
        let c = try load("qwen3")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lora-roundtrip-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try AdapterCheckpoint.writeContents(of: c.model.adapters!, basePath: "/models/base", into: folder)
        let (spec, base) = try AdapterCheckpoint.readConfig(folder)
        XCTAssertEqual(spec, c.model.adapters!.spec)
        XCTAssertEqual(base, "/models/base")
        let loaded = try AdapterCheckpoint.loadAdapters(folder, spec: spec, config: c.base.config)
        XCTAssertEqual(loaded.parameters.tensors.map(\.values), c.model.trainable.tensors.map(\.values))
    }

    func testAdapterConfigErrorsNameTheField() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lora-bad-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            (#"{"peft_type": "LORA", "r": 0, "base_model_name_or_path": "x", "target_modules": ["q_proj"]}"#, "'r'"),
            (#"{"peft_type": "IA3", "r": 4}"#, "'peft_type'"),
            (#"{"peft_type": "LORA", "r": 4, "use_dora": true, "base_model_name_or_path": "x", "target_modules": ["q_proj"]}"#, "use_dora"),
            (#"{"peft_type": "LORA", "r": 4, "base_model_name_or_path": "x", "target_modules": ["qkv"]}"#, "target_modules"),
            (#"{"peft_type": "LORA", "r": 4, "base_model_name_or_path": "x", "target_modules": ".*proj"}"#, "target_modules"),
            (#"{"peft_type": "LORA", "r": 4, "target_modules": ["q_proj"]}"#, "base_model_name_or_path"),
        ]
        for (json, field) in cases {
            try Data(json.utf8).write(to: folder.appendingPathComponent(AdapterCheckpoint.configFile))
            XCTAssertThrowsError(try AdapterCheckpoint.readConfig(folder), json) { error in
                XCTAssertTrue("\(error.localizedDescription)".contains(field), "\(json): \(error.localizedDescription)")
                XCTAssertTrue("\(error.localizedDescription)".contains(AdapterCheckpoint.configFile), "names the file")
            }
        }
    }
}
