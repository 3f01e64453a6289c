import Foundation
import ModelIO
import Tasks
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Training

/// Token ids written as text ("3 17 5"), for fixtures given as ids.
struct IdCodec: TextCodec {
    var eosTokenIDs: Set<Int32> { [] }
    func encode(_ text: String) throws -> [Int32] { text.split(separator: " ").compactMap { Int32($0) } }
    func decode(_ ids: [Int32]) -> String { ids.map(String.init).joined(separator: " ") }
}

/// Ten SFT steps of a whole tiny Qwen2 against PyTorch (Scripts/make_training_fixtures.py), as
/// llm.c checks its trainer: the loss and the gradient norm of every step, and the weights after
/// the tenth, through the same trainer, loop, AdamW and clipping a run uses.
final class TenStepsTests: XCTestCase {
    func testTenStepsMatchPyTorch() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sft_ten_steps")
        let model = try ModelCheckpoint.load(directory: fixtures)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("steps.json")))
            as? [String: Any])
        let rows = try XCTUnwrap(json["rows"] as? [[String: [Int]]])
        let expected = try XCTUnwrap(json["steps"] as? [[String: Double]])
        XCTAssertEqual(expected.count, 10)
        let examples = rows.map { row in
            SFTExample(prompt: (row["prompt"] ?? []).map(String.init).joined(separator: " "),
                       completion: (row["completion"] ?? []).map(String.init).joined(separator: " "), columns: [:])
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-ten-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every step sees all four rows (one epoch a step; the mean loss does not depend on their order).
        let config = try SFTConfig.resolve(TestSettings.entries([
            "model=fixture", "train_file=fixture", "output_dir=\(dir.path)", "max_steps=10", "per_device_train_batch_size=4",
            "learning_rate=0.001", "lr_scheduler_type=constant", "warmup_steps=0", "weight_decay=0.01", "max_grad_norm=1.0",
            "logging_steps=1", "save_steps=10", "max_length=64",
        ]))
        let trainer = try SFTTrainer(config: config, model: model, codec: IdCodec(), train: examples, eval: [], tokenizerSource: nil,
                                     verifier: Verifiers.none)
        var steps: [[String: Double]] = []
        var loop = TrainingLoop()
        loop.log = { _ in }
        loop.showProgress = false
        loop.onStep = { _, metrics in steps.append(metrics) }
        try trainer.train(loop: loop)
        assertElementsClose(steps.compactMap { $0["loss"] }, expected.compactMap { $0["loss"] }, accuracy: 0, relative: 2e-6, "losses")
        assertElementsClose(steps.compactMap { $0["grad_norm"] }, expected.compactMap { $0["grad_norm"] }, accuracy: 0, relative: 2e-5,
                            "gradient norms")
        let final = try SafeTensorsFile(url: fixtures.appendingPathComponent("final.safetensors"))
        for t in model.parameters.tensors {
            assertClose(t.values, try final.tensor(t.name).values, tolerance: 3e-5, "\(t.name) after 10 steps")
        }
    }
}
