import Foundation
import TensorCore
import XCTest
@testable import Transformer

/// gradient_checkpointing against the plain pass on the tiny transformers fixtures (Llama, Qwen2
/// with biases and tied embeddings, Qwen3 with q/k norms): the same loss and every parameter's
/// gradient to the bit, through the full logits and through the fused token logprobs.
final class GradientCheckpointingTests: XCTestCase {
    /// The bit patterns of the loss and of every parameter's gradient, and how many ops the tape
    /// recorded.
    func lossAndGradientBits(_ model: DecoderModel, checkpointing: Bool,
                             _ loss: (Tape) -> Tensor) -> (bits: [[UInt32]], recorded: Int) {
        model.gradientCheckpointing = checkpointing
        trained(model).zeroGrad()
        model.adapters?.passes = 0  // the same LoRA dropout masks both ways
        let tape = Tape()
        let value = loss(tape)
        let recorded = tape.count
        tape.backward(value)
        return ([[value.scalar.bitPattern]] + trained(model).tensors.map { $0.gradValues.map(\.bitPattern) }, recorded)
    }

    /// The parameters that take gradients: the adapters' under LoRA.
    func trained(_ model: DecoderModel) -> ParameterSet { model.adapters?.parameters ?? model.parameters }

    func assertSameBits(_ model: DecoderModel, _ label: String, _ loss: @escaping (Tape) -> Tensor) {
        let plain = lossAndGradientBits(model, checkpointing: false, loss)
        let checkpointed = lossAndGradientBits(model, checkpointing: true, loss)
        let names = ["loss"] + trained(model).tensors.map(\.name)
        for (name, (want, got)) in zip(names, zip(plain.bits, checkpointed.bits)) where want != got {
            let i = zip(want, got).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            XCTFail("\(label): \(name) differs at \(i): plain \(Float(bitPattern: want[i])), checkpointed \(Float(bitPattern: got[i]))")
        }
        XCTAssertTrue(trained(model).tensors.allSatisfy { $0.gradValues.contains { $0 != 0 } }, "\(label): a gradient stayed zero")
        // One recorded op a layer instead of the layer's ops.
        XCTAssertLessThan(checkpointed.recorded, plain.recorded, label)
    }

    func testGradientsEqualThePlainPassBitwise() throws {
        for family in ["llama", "qwen2", "qwen3"] {
            try checkFamily(family) { $0 }
        }
    }

    /// LoRA adapters on every linear layer with dropout: the layer's second run draws the same masks.
    func testLoRAAdapterGradientsWithDropoutEqualThePlainPassBitwise() throws {
        try checkFamily("qwen2") { base in
            base.parameters.freeze()
            let adapters = LoRAAdapters(config: base.config, spec: .init(rank: 4, alpha: 8, dropout: 0.25,
                                                                         targets: LoRAAdapters.Module.allCases), dropoutSeed: 5)
            adapters.initialize(seed: 3)
            var rng = SeededGenerator(seed: 4)
            for b in adapters.parameters.tensors where b.name.contains("lora_B") { rng.fillNormal(b, std: 0.1) }  // B starts at 0
            return DecoderModel(base: base, adapters: adapters)
        }
    }

    /// The family's fixture model, prepared (adapters added), both ways, through both losses.
    func checkFamily(_ family: String, _ prepare: (DecoderModel) -> DecoderModel) throws {
        let model = prepare(try ModelCheckpoint.load(directory: TransformersParityTests.fixtures.appendingPathComponent(family)))
        let v = Int32(model.config.vocabSize)
        let ids: [Int32] = [0, 0, 4, 8, 15, 16, 23, 42, 5, 9, 14, 3, 77, 2, 11, 30].map { $0 % v }
        let mask: [Int32] = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        let batch = DecoderModel.Batch(ids: ids, attentionMask: mask, batch: 2, time: 8)
        let targets = (0..<16).map { n -> Int32 in n % 8 < 7 && mask[n] != 0 ? ids[n + 1] : -100 }
        assertSameBits(model, "\(family), cross-entropy of logits") { tape in
            tape.crossEntropy(logits: model.logits(tape, batch), targets: targets)
        }
        let positions = [2, 3, 6, 9, 12, 14]
        assertSameBits(model, "\(family), token logprobs") { tape in
            let (logprob, entropy) = model.tokenLogprobs(tape, batch, positions: positions,
                                                         targets: positions.map { ids[$0 + 1] }, temperature: 0.7)
            return tape.add(tape.sum(logprob), tape.scale(tape.sum(entropy), 0.1))
        }
    }
}
