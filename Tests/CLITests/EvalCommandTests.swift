import Evaluation
import Foundation
import Tasks
import Tokenization
import Transformer
import XCTest

/// `grpo eval` prints the Evaluator's figures for a model and a JSONL file, and names a bad file.
final class EvalCommandTests: XCTestCase {
    var binary: URL { GRPOBinary.url }

    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) { try GRPOBinary.run(arguments) }

    func testEvalMatchesTheEvaluatorAndRejectsBadInput() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary.path), "no grpo binary at \(binary.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        // 1-digit sums, a tokenizer trained on them, and a random model that sometimes gets a digit right.
        let task = try ArithmeticTask(digits: 1, operations: [.add])
        let splits = try makeDataset(task: task, train: 60, test: 12, seed: 5, format: .plain)
        let data = dir.appendingPathComponent("test.jsonl")
        try JSONL.write(splits.test, to: data)
        let texts = splits.train.flatMap { row -> [String] in
            if case .text(let prompt) = row.prompt { return [prompt, row.completionText ?? ""] }
            return []
        }
        let tokenizer = try BPETrainer(vocabSize: 270, specialTokens: ["<|endoftext|>"])
            .train(texts, config: TokenizerConfig(eosToken: "<|endoftext|>"))
        let tokDir = dir.appendingPathComponent("tok")
        try FileManager.default.createDirectory(at: tokDir, withIntermediateDirectories: true)
        try tokenizer.save(to: tokDir)
        let eos = Int32(tokenizer.eosTokenID ?? 0)
        let model = DecoderModel(config: DecoderConfig(modelType: "qwen2", vocabSize: tokenizer.vocabSize, hiddenSize: 32,
                                                       intermediateSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                                       tieWordEmbeddings: true, qkvBias: true, eosTokenIDs: [Int(eos)]))
        model.initialize(seed: 4, std: 0.3)
        let modelDir = dir.appendingPathComponent("model")
        try ModelCheckpoint.save(model, to: modelDir, tokenizerSource: tokDir)

        let result = try run(["eval", "--model", modelDir.path, "--data", data.path, "-k", "4", "--max-new-tokens", "3",
                              "--seed", "9", "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        let printed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])

        // The same evaluation in-process.
        let prompts = try splits.test.map { row -> [Int32] in
            guard case .text(let text) = row.prompt else { throw XCTSkip("plain prompts expected") }
            return try tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
        }
        let evaluator = Evaluator(model: model, decode: { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) },
                                  eosTokenIDs: [eos], verifier: Verifiers.mathAnswer())
        let report = evaluator.run(prompts: prompts, columns: splits.test.map(\.columns), k: 4, temperature: 1, maxNewTokens: 3, seed: 9)
        XCTAssertEqual(printed["problems"] as? Int, 12)
        for (key, value) in report.metrics {
            XCTAssertEqual(try XCTUnwrap(printed[key] as? Double, key), value, accuracy: 1e-12, key)
        }
        XCTAssertGreaterThan(report.pass1 + report.passK, 0, "a test that can tell figures apart needs some correct samples")

        let missing = try run(["eval", "--model", modelDir.path, "--data", dir.appendingPathComponent("nope.jsonl").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("nope.jsonl"), missing.err)
        let badK = try run(["eval", "--model", modelDir.path, "--data", data.path, "-k", "0"])
        XCTAssertNotEqual(badK.status, 0)
        XCTAssertTrue(badK.err.contains("-k"), badK.err)
    }
}
