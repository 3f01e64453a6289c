import Foundation
import ModelIO
import TensorCore
@testable import Training
import Transformer
import XCTest

/// `use_peft: true` in SFT, GRPO and PPO: checkpoints hold PEFT adapter folders (no model weights),
/// the adapters train while the base stays as loaded, the GRPO reference is the base itself (no
/// copy), an adapter checkpoint loads for evaluation and merges with `grpo convert --merge-lora`,
/// and wrong uses are refused by name.
final class LoRATrainTests: XCTestCase {
    var tiny: TinyRun!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        tiny = try TinyRun("lora")
    }

    override func tearDown() { tiny?.remove() }

    let lora = ["use_peft=true", "lora_r=4", "lora_alpha=8", "lora_dropout=0.1", "lora_target_modules=q_proj,v_proj,down_proj"]

    func testTrainersSaveAdaptersThatLoadAndMerge() throws {
        let baseBytes = try Data(contentsOf: tiny.model.appendingPathComponent("model.safetensors"))
        let own = ["sft": [], "grpo": ["beta=0.04", "reward_funcs=\(try tiny.lengthRewardCommand())"], "ppo": ["kl_coef=0.05"]]
        for trainer in ["sft", "grpo", "ppo"] {
            let result = try GRPOBinary.run(["train", trainer] + tiny.settings(trainer, output: trainer, lora + ["learning_rate=0.01"] + own[trainer]!))
            XCTAssertEqual(result.status, 0, "\(trainer): \(result.err)")
            let checkpoint = tiny.dir.appendingPathComponent(trainer).appendingPathComponent("checkpoint-2")
            let files = Set(try FileManager.default.contentsOfDirectory(atPath: checkpoint.path))
            XCTAssertTrue(files.isSuperset(of: ["adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "tokenizer.json"]),
                          "\(trainer): \(files.sorted())")
            XCTAssertFalse(files.contains("model.safetensors"), "\(trainer): the frozen base is not written")

            let adapted = try ModelBundle.loadModel(checkpoint.path)
            XCTAssertEqual(adapted.adapters?.spec.targets, [.q, .v, .down], trainer)
            let bNorm = adapted.trainable.tensors.filter { $0.name.contains("lora_B") }.flatMap(\.values).map { abs($0) }.max() ?? 0
            XCTAssertGreaterThan(bNorm, 0, "\(trainer): the adapters trained (B moved from zero)")

            let merged = tiny.dir.appendingPathComponent("\(trainer)-merged")
            let convert = try GRPOBinary.run(["convert", checkpoint.path, merged.path, "--merge-lora"])
            XCTAssertEqual(convert.status, 0, convert.err)
            let batch = DecoderModel.Batch(ids: [5, 9, 14, 3, 40, 2, 7, 11], positions: (0..<8).map(Int32.init), batch: 1, time: 8)
            let want = adapted.logits(Tape(recording: false), batch).values
            let got = try ModelCheckpoint.load(directory: merged).logits(Tape(recording: false), batch).values
            XCTAssertLessThanOrEqual(zip(want, got).map { abs($0 - $1) }.max() ?? 1, 1e-4, "\(trainer): merged logits")
            XCTAssertTrue(FileManager.default.fileExists(atPath: merged.appendingPathComponent("tokenizer.json").path), trainer)
        }
        XCTAssertEqual(try Data(contentsOf: tiny.model.appendingPathComponent("model.safetensors")), baseBytes, "the base model is untouched")
    }

    func testGRPOReferenceIsTheBaseWithoutACopy() throws {
        let entries = tiny.settings("grpo", output: "reference", lora + ["beta=0.04"]).filter { $0 != "--set" }.map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            return SettingEntry(parts[0], ["true", "false"].contains(parts[1]) ? .bool(parts[1] == "true") : .string(parts[1]), source: "test")
        }
        let config = try GRPOConfig.resolve(entries)
        let trainer = try GRPOTrainer(config: config, log: { _ in })
        let reference = try XCTUnwrap(trainer.reference)
        XCTAssertNil(reference.adapters)
        XCTAssertNotNil(trainer.policy.adapters)
        XCTAssertTrue(reference.parameters === trainer.policy.parameters, "the reference shares the policy's base weights")
        XCTAssertFalse(trainer.policy.parameters.isTrainable, "the base is frozen")
    }

    func testNaNAdaptersAreRefusedByTensor() throws {
        let base = try ModelCheckpoint.load(directory: tiny.model)
        let adapters = LoRAAdapters(config: base.config, spec: LoRAAdapters.Spec(rank: 2))
        adapters.initialize(seed: 1)
        adapters.parameters.tensors[1].data[3] = .nan
        let folder = tiny.dir.appendingPathComponent("nan-adapter")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AdapterCheckpoint.writeContents(of: adapters, basePath: tiny.model.path, into: folder)
        XCTAssertThrowsError(try ModelBundle.loadModel(folder.path)) { error in
            XCTAssertTrue("\(error)".contains(adapters.parameters.tensors[1].name), "\(error)")
        }
    }

    func testWrongUsesAreRefusedByName() throws {
        let rm = try GRPOBinary.run(["train", "rm"] + tiny.settings("rm", output: "rm", ["use_peft=true"]))
        XCTAssertNotEqual(rm.status, 0)
        XCTAssertTrue(rm.err.contains("use_peft"), rm.err)

        let first = try GRPOBinary.run(["train", "sft"] + tiny.settings("sft", output: "switch", lora))
        XCTAssertEqual(first.status, 0, first.err)
        let resumed = try GRPOBinary.run(["train", "sft"] + tiny.settings("sft", output: "switch", ["max_steps=3"]) + ["--resume"])
        XCTAssertNotEqual(resumed.status, 0)
        XCTAssertTrue(resumed.err.contains("use_peft"), resumed.err)

        let plain = try GRPOBinary.run(["convert", tiny.model.path, tiny.dir.appendingPathComponent("x").path, "--merge-lora"])
        XCTAssertNotEqual(plain.status, 0)
        XCTAssertTrue(plain.err.contains("not a LoRA adapter folder"), plain.err)
    }
}
