import Foundation
import ModelIO
import TensorCore
import TestSupport
import XCTest
@testable import Transformer

/// Llama, Qwen2 and Qwen3 against PyTorch `transformers` on tiny random checkpoints written by
/// Scripts/make_model_fixtures.py: logits (including a left-padded row), the gradient of the mean
/// next-token cross-entropy for every parameter, and the logits after one AdamW step.
final class TransformersParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Reference {
        let file: SafeTensorsFile
        func values(_ name: String) throws -> [Float] { try file.tensor(name).values }
        func ints(_ name: String) throws -> [Int32] { try values(name).map { Int32($0) } }
    }

    /// Next-token targets: position t predicts ids[t + 1] when both are real tokens, else ignored.
    static func targets(ids: [Int32], mask: [Int32], batch: Int, time: Int) -> [Int32] {
        var targets = [Int32](repeating: -100, count: ids.count)
        for b in 0..<batch {
            for t in 0..<(time - 1) where mask[b * time + t] != 0 && mask[b * time + t + 1] != 0 {
                targets[b * time + t] = ids[b * time + t + 1]
            }
        }
        return targets
    }

    /// max |a - b| over the positions whose mask is 1 (padded positions are not compared).
    static func maxAbsDifference(_ a: [Float], _ b: [Float], mask: [Int32], vocab: Int) -> Float {
        var worst: Float = 0
        for (n, keep) in mask.enumerated() where keep != 0 {
            for j in 0..<vocab { worst = max(worst, abs(a[n * vocab + j] - b[n * vocab + j])) }
        }
        return worst
    }

    func checkFamily(_ family: String) throws {
        let dir = Self.fixtures.appendingPathComponent(family)
        let model = try ModelCheckpoint.load(directory: dir)
        XCTAssertEqual(model.config.modelType, family)
        let ref = Reference(file: try SafeTensorsFile(url: dir.appendingPathComponent("expected.safetensors")))
        let shape = ref.file.info("ids")!.shape
        let (b, t, vocab) = (shape[0], shape[1], model.config.vocabSize)
        let ids = try ref.ints("ids"), mask = try ref.ints("attention_mask")
        let batch = DecoderModel.Batch(ids: ids, attentionMask: mask, batch: b, time: t)
        XCTAssertEqual(batch.positions, try ref.ints("position_ids"), "\(family): positions from the mask")

        let tape = Tape()
        let logits = model.logits(tape, batch)
        XCTAssertEqual(logits.shape, [b, t, vocab])
        let logitError = Self.maxAbsDifference(logits.values, try ref.values("logits"), mask: mask, vocab: vocab)
        XCTAssertLessThanOrEqual(logitError, 1e-4, "\(family): logits max abs difference")

        let loss = tape.crossEntropy(logits: logits, targets: Self.targets(ids: ids, mask: mask, batch: b, time: t))
        XCTAssertEqual(loss.scalar, try ref.values("loss")[0], accuracy: 1e-5, "\(family): loss")
        model.parameters.zeroGrad()
        tape.backward(loss)
        for p in model.parameters.tensors {
            let expected = try ref.values("grad." + p.name)
            let error = relativeError(p.gradValues, expected)
            XCTAssertLessThanOrEqual(error, 1e-3, "\(family): gradient of \(p.name)")
        }

        let optimizer = AdamW(model.parameters, config: .init(eps: 1e-8, weightDecay: 0.01))
        optimizer.update(lr: 1e-2)
        let after = model.logits(Tape(recording: false), batch)
        let afterError = Self.maxAbsDifference(after.values, try ref.values("logits_after_step"), mask: mask, vocab: vocab)
        XCTAssertLessThanOrEqual(afterError, 1e-4, "\(family): logits after one AdamW step")
    }

    func testLlama() throws { try checkFamily("llama") }
    func testQwen2WithTiedEmbeddings() throws { try checkFamily("qwen2") }
    func testQwen3WithQKNorm() throws { try checkFamily("qwen3") }

    /// The fused per-position logprobs equal log-softmax of the full logits at those positions.
    func testTokenLogprobsOfSelectedPositions() throws {
        let model = try ModelCheckpoint.load(directory: Self.fixtures.appendingPathComponent("qwen3"))
        let batch = DecoderModel.Batch(ids: [4, 8, 15, 16, 23, 42, 0, 0], attentionMask: [1, 1, 1, 1, 1, 1, 0, 0], batch: 2, time: 4)
        let positions = [1, 2, 4, 5], targets: [Int32] = [15, 16, 42, 7]
        let r = model.tokenLogprobs(Tape(recording: false), batch, positions: positions, targets: targets, temperature: 0.8)
        let logits = model.logits(Tape(recording: false), batch).values
        let v = model.config.vocabSize
        for (n, p) in positions.enumerated() {
            let row = (0..<v).map { Double(logits[p * v + $0]) / 0.8 }
            let m = row.max()!, logZ = m + log(row.reduce(0) { $0 + exp($1 - m) })
            XCTAssertEqual(Double(r.logprob.values[n]), row[Int(targets[n])] - logZ, accuracy: 1e-5)
        }
    }

    /// The same forward through a batch of one row equals the padded batch's row (padding is
    /// invisible to real tokens).
    func testLeftPaddingDoesNotChangeRealTokens() throws {
        let model = try ModelCheckpoint.load(directory: Self.fixtures.appendingPathComponent("qwen2"))
        let ids: [Int32] = [5, 9, 14, 3, 77]
        let alone = model.logits(Tape(recording: false), .init(ids: ids, attentionMask: [1, 1, 1, 1, 1], batch: 1, time: 5))
        let padded = model.logits(Tape(recording: false),
                                  .init(ids: [0, 0] + ids, attentionMask: [0, 0, 1, 1, 1, 1, 1], batch: 1, time: 7))
        let v = model.config.vocabSize
        assertClose(Array(padded.values[(2 * v)...]), alone.values, tolerance: 1e-5, "left-padded row")
    }
}

/// Cached prefill plus one-token decodes against the full forward.
final class KVCacheTests: XCTestCase {
    func testPrefillAndDecodeStepsEqualTheFullForward() throws {
        for family in ["llama", "qwen2", "qwen3"] {
            let model = try ModelCheckpoint.load(directory: TransformersParityTests.fixtures.appendingPathComponent(family))
            let v = model.config.vocabSize
            // Two rows: the second is left-padded by two. Prompt length 4, then 5 decode steps.
            let full: [[Int32]] = [[5, 9, 14, 3, 77, 20, 31, 8, 12], [0, 0, 8, 31, 2, 60, 44, 19, 7]]
            let mask: [[Int32]] = [[1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1, 1]]
            let time = full[0].count
            let reference = model.logits(Tape(recording: false),
                                         .init(ids: full.flatMap { $0 }, attentionMask: mask.flatMap { $0 }, batch: 2, time: time)).values
            let prompt = 4
            let cache = KVCache(config: model.config, rows: 2, capacity: time)
            let first = model.prefill(.init(ids: full.flatMap { $0.prefix(prompt) }, attentionMask: mask.flatMap { $0.prefix(prompt) },
                                            batch: 2, time: prompt), cache: cache)
            for b in 0..<2 {
                let expected = Array(reference[((b * time + prompt - 1) * v)..<((b * time + prompt) * v)])
                assertClose(Array(first.values[(b * v)..<((b + 1) * v)]), expected, tolerance: 1e-5, "\(family) prefill row \(b)")
            }
            var nextPosition: [Int32] = [Int32(prompt), Int32(prompt - 2)]
            for step in prompt..<time {
                // Row 1 stops after two steps: finished rows cost nothing and change nothing.
                let rows = step < prompt + 2 ? [0, 1] : [0]
                let logits = model.decodeStep(cache: cache, rows: rows, tokens: rows.map { full[$0][step] },
                                              positions: rows.map { nextPosition[$0] })
                for (r, b) in rows.enumerated() {
                    let expected = Array(reference[((b * time + step) * v)..<((b * time + step + 1) * v)])
                    assertClose(Array(logits.values[(r * v)..<((r + 1) * v)]), expected, tolerance: 1e-5, "\(family) step \(step) row \(b)")
                    nextPosition[b] += 1
                }
            }
        }
    }

    /// Many rows (not a multiple of the decode kernels' 3-row tiles), every bias, q/k norms, sizes
    /// off the 8-lane vectors, left padding and rows that stop early: each decode step's logits
    /// equal the full forward's.
    func testManyRowsDecodeEqualsTheFullForward() {
        for qkNorm in [false, true] {
            let config = DecoderConfig(modelType: qkNorm ? "qwen3" : "qwen2", vocabSize: 97, hiddenSize: 44, intermediateSize: 72,
                                       layerCount: 2, headCount: 4, kvHeadCount: 2, headDim: 12, qkvBias: true,
                                       outputBias: true, mlpBias: true, qkNorm: qkNorm)
            let model = DecoderModel(config: config)
            model.initialize(seed: 3, std: 0.3)
            var rng = SeededGenerator(seed: 4)
            let (rows, prompt, time) = (7, 5, 11)
            let ids = (0..<(rows * time)).map { _ in Int32(rng.nextInt(below: 97)) }
            let mask = (0..<rows).flatMap { b in (0..<time).map { t -> Int32 in t < b % 3 ? 0 : 1 } }
            let reference = model.logits(Tape(recording: false), .init(ids: ids, attentionMask: mask, batch: rows, time: time)).values
            let cache = KVCache(config: config, rows: rows, capacity: time)
            let promptIDs = (0..<rows).flatMap { b in ids[(b * time)..<(b * time + prompt)] }
            let promptMask = (0..<rows).flatMap { b in mask[(b * time)..<(b * time + prompt)] }
            _ = model.prefill(.init(ids: promptIDs, attentionMask: promptMask, batch: rows, time: prompt), cache: cache)
            for step in prompt..<time {
                let active = (0..<rows).filter { step < time - $0 % 2 }  // odd rows stop one step early
                let logits = model.decodeStep(cache: cache, rows: active, tokens: active.map { ids[$0 * time + step] },
                                              positions: active.map { Int32(step - $0 % 3) }).values
                for (r, b) in active.enumerated() {
                    let expected = Array(reference[((b * time + step) * 97)..<((b * time + step + 1) * 97)])
                    assertClose(Array(logits[(r * 97)..<((r + 1) * 97)]), expected, tolerance: 1e-5,
                                "qkNorm \(qkNorm) step \(step) row \(b)")
                }
            }
        }
    }
}
