import Foundation
import TensorCore
import TestSupport
import Transformer
import XCTest
@testable import Generation

/// Batched KV-cache generation on the tiny fixture checkpoints.
final class GeneratorTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TransformerTests/Fixtures")

    func model(_ family: String) throws -> DecoderModel {
        try ModelCheckpoint.load(directory: Self.fixtures.appendingPathComponent(family))
    }

    func generator(_ model: DecoderModel) -> Generator {
        Generator(model: model) { ids in ids.map { String($0) }.joined(separator: " ") }
    }

    /// Greedy continuations equal transformers' generate, up to the first step whose top-1/top-2
    /// margin is too small for float rounding to decide.
    func testGreedyMatchesTransformersGenerate() throws {
        for family in ["llama", "qwen2", "qwen3"] {
            let m = try model(family)
            let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(family)/generate.json"))
            let cases = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
            let prompts = cases.map { ($0["prompt"] as! [Int]).map { Int32($0) } }
            var rng = SeededGenerator(seed: 0)
            // Both prompts in one left-padded batch.
            let out = generator(m).generate(prompts: prompts, config: .init(maxNewTokens: 8, sampling: .init(temperature: 0)), rng: &rng)
            for (n, c) in cases.enumerated() {
                let expected = (c["completion"] as! [Int]).map { Int32($0) }
                let margins = c["margins"] as! [Double]
                let decided = margins.firstIndex { $0 < 1e-4 } ?? expected.count
                XCTAssertEqual(Array(out[n].ids.prefix(decided)), Array(expected.prefix(decided)), "\(family) prompt \(n)")
                XCTAssertEqual(out[n].finishReason, .length)
            }
        }
    }

    /// The logprobs and entropies recorded while sampling equal those the training forward
    /// recomputes (the GRPO trainer uses the first as pi_old), also when repeated prompts share one
    /// prefill whose cache rows are copied.
    func testSampledLogprobsEqualTrainingForward() throws {
        let m = try model("qwen3")
        let (a, b, c): ([Int32], [Int32], [Int32]) = ([5, 9, 14], [40, 2, 77, 8, 31], [7])
        for prompts in [[a, b, c], [a, b, a, c, b, b]] {
            var rng = SeededGenerator(seed: 11)
            let temperature: Float = 0.7
            let out = generator(m).generate(prompts: prompts, config: .init(maxNewTokens: 6, sampling: .init(temperature: temperature)),
                                             rng: &rng)
            // Rebuild prompt + completion rows, left-padded, and score the completion tokens.
            let rows = zip(prompts, out).map { $0 + $1.ids }
            let time = rows.map(\.count).max()!
            var ids: [Int32] = [], mask: [Int32] = [], positions: [Int] = [], targets: [Int32] = []
            var recorded: [Float] = [], entropies: [Float] = []
            for (b, row) in rows.enumerated() {
                let pad = time - row.count
                ids += [Int32](repeating: 0, count: pad) + row
                mask += [Int32](repeating: 0, count: pad) + [Int32](repeating: 1, count: row.count)
                for (j, token) in out[b].ids.enumerated() {
                    positions.append(b * time + pad + prompts[b].count + j - 1)  // the position that predicts it
                    targets.append(token)
                }
                recorded += out[b].logprobs
                entropies += out[b].entropies
            }
            XCTAssertEqual(recorded.count, targets.count)
            XCTAssertEqual(entropies.count, targets.count)
            let r = m.tokenLogprobs(Tape(recording: false), .init(ids: ids, attentionMask: mask, batch: rows.count, time: time),
                                    positions: positions, targets: targets, temperature: temperature)
            for (x, y) in zip(r.logprob.values, recorded) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(prompts.count) prompts") }
            for (x, y) in zip(r.entropy.values, entropies) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(prompts.count) prompts") }
            // Repeated prompts draw different completions (the generator advances row by row).
            if prompts.count == 6 { XCTAssertNotEqual(out[1].ids, out[4].ids) }
        }
    }

    func testSameSeedSameCompletionsAndStops() throws {
        let m = try model("llama")
        let prompts: [[Int32]] = [[5, 9], [40, 2, 77], [3]]
        let config = GenerationConfig(maxNewTokens: 10, sampling: .init(temperature: 1.0, topP: 0.9))
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5), c = SeededGenerator(seed: 6)
        let first = generator(m).generate(prompts: prompts, config: config, rng: &a)
        XCTAssertEqual(first, generator(m).generate(prompts: prompts, config: config, rng: &b))
        XCTAssertNotEqual(first.map(\.ids), generator(m).generate(prompts: prompts, config: config, rng: &c).map(\.ids))
        XCTAssertTrue(first.allSatisfy { $0.ids.count == 10 && $0.finishReason == .length && $0.logprobs.count == 10 })

        // An eos id stops a row at that token (included in ids, not in text); other rows go on.
        let eos = first[0].ids[3]
        var d = SeededGenerator(seed: 5)
        let stopped = generator(m).generate(prompts: prompts, config: .init(maxNewTokens: 10, sampling: config.sampling, eosTokenIDs: [eos]),
                                            rng: &d)
        let cut = first[0].ids.firstIndex(of: eos)!
        XCTAssertEqual(stopped[0].ids, Array(first[0].ids.prefix(cut + 1)))
        XCTAssertEqual(stopped[0].finishReason, .stop)
        XCTAssertFalse(stopped[0].text.split(separator: " ").contains(Substring(String(eos))))

        // A stop string stops the row once the decoded tail contains it.
        let text = "\(first[1].ids[1]) \(first[1].ids[2])"
        var e = SeededGenerator(seed: 5)
        let byString = generator(m).generate(prompts: prompts, config: .init(maxNewTokens: 10, sampling: config.sampling, stopStrings: [text]),
                                             rng: &e)
        XCTAssertEqual(byString[1].finishReason, .stop)
        XCTAssertTrue(byString[1].ids.count <= 3)
    }

    /// The rows' draws run across the pool (each row's uniform number drawn first, in row order):
    /// the tokens and logprobs equal drawing row by row from the one stream, as a plain loop over
    /// prefill and decode steps does. 40 rows x a 4096-token vocabulary is enough work to split.
    func testDrawsAcrossThePoolEqualRowByRowDraws() throws {
        let config = ModelPreset.tiny.config(vocabSize: 4096, eosTokenIDs: [])
        let m = DecoderModel(config: config)
        m.initialize(seed: 3)
        var promptRNG = SeededGenerator(seed: 4)
        let (rows, time, steps) = (40, 5, 6)
        let prompts = (0..<rows).map { _ in (0..<time).map { _ in Int32(promptRNG.nextInt(below: 4096)) } }
        var rng = SeededGenerator(seed: 9)
        let generated = generator(m).generate(prompts: prompts, config: .init(maxNewTokens: steps), rng: &rng)

        var reference = SeededGenerator(seed: 9)
        let cache = KVCache(config: config, rows: rows, capacity: time + steps)
        var logits = m.prefill(.init(ids: prompts.flatMap { $0 }, attentionMask: [Int32](repeating: 1, count: rows * time),
                                     batch: rows, time: time), cache: cache)
        var ids = [[Int32]](repeating: [], count: rows), logprobs = [[Float]](repeating: [], count: rows)
        for step in 0..<steps {
            for r in 0..<rows {
                let (token, logprob, _) = TokenSampler.sample(logits: logits.data + r * 4096, vocab: 4096, config: .init(),
                                                              rng: &reference)
                ids[r].append(token)
                logprobs[r].append(logprob)
            }
            if step + 1 < steps {
                logits = m.decodeStep(cache: cache, rows: Array(0..<rows), tokens: ids.map { $0.last! },
                                      positions: [Int32](repeating: Int32(time + step), count: rows))
            }
        }
        XCTAssertEqual(generated.map(\.ids), ids)
        XCTAssertEqual(generated.map(\.logprobs), logprobs)
    }

    /// `grpo bench generate` divides this count by the time: it holds only the work the generator
    /// does (no LM head on prompt positions, no decode step for the last sampled token).
    func testGenerationMACsCountWhatTheGeneratorComputes() {
        let smollm2 = DecoderConfig(modelType: "llama", vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536,
                                    layerCount: 30, headCount: 9, kvHeadCount: 3, headDim: 64)
        // A layer: 576 x (576 + 2 x 192) + 576 x 576 + 3 x 576 x 1536 = 3,538,944; 30 of them 106,168,320;
        // the head 49,152 x 576 = 28,311,552; attention 30 x 2 x 9 x 64 = 34,560 a key.
        // Prefill of 16 tokens: 16 x 106,168,320 + 28,311,552 + 16 x 16 x 34,560 = 1,735,852,032.
        // 63 decode steps: 63 x 134,479,872 + 34,560 x (17 + 18 + ... + 79) = 8,576,741,376.
        XCTAssertEqual(smollm2.generationMACs(rows: 64, promptTokens: 16, newTokens: 64), 64 * 10_312_593_408)
        XCTAssertEqual(smollm2.generationMACs(rows: 1, promptTokens: 16, newTokens: 1), 1_735_852_032)
        XCTAssertEqual(smollm2.generationMACs(rows: 0, promptTokens: 16, newTokens: 64), 0)
    }
}
