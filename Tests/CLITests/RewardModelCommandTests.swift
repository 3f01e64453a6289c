import Foundation
import Tasks
import Tokenization
import Transformer
import XCTest

/// `grpo train rm` from a causal LM on the polite/short preference pairs: held-out pair accuracy,
/// a Hugging Face sequence-classification folder, and its scores through `grpo score` and `rm:`.
final class RewardModelCommandTests: XCTestCase {
    func testTrainsAPreferenceAndSavesAScoreModel() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-rm-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try GRPOBinary.run(["data", "preferences", "--train", "400", "--test", "60", "--seed", "3", "--out", dir.path])
        XCTAssertEqual(data.status, 0, data.err)
        let pairs = try JSONL.read(dir.appendingPathComponent("pairs-train.jsonl")).rows
        let texts = pairs.flatMap { row -> [String] in
            guard case .text(let prompt) = row.prompt else { return [] }
            return [prompt, row.columns["chosen"]?.stringValue ?? "", row.columns["rejected"]?.stringValue ?? ""]
        }
        let tokenizer = try BPETrainer(vocabSize: 400, specialTokens: ["<|endoftext|>"]).train(texts, config: TokenizerConfig(eosToken: "<|endoftext|>"))
        let tok = dir.appendingPathComponent("tok")
        try FileManager.default.createDirectory(at: tok, withIntermediateDirectories: true)
        try tokenizer.save(to: tok)
        let model = DecoderModel(config: DecoderConfig(modelType: "qwen2", vocabSize: tokenizer.vocabSize, hiddenSize: 32, intermediateSize: 64,
                                                       layerCount: 2, headCount: 4, kvHeadCount: 2,
                                                       tieWordEmbeddings: true, qkvBias: true, eosTokenIDs: [tokenizer.eosTokenID ?? 0]))
        model.initialize(seed: 2, std: 0.1)
        try ModelCheckpoint.save(model, to: dir.appendingPathComponent("lm"), tokenizerSource: tok)

        let out = dir.appendingPathComponent("rm")
        let settings = ["model=\(dir.appendingPathComponent("lm").path)", "train_file=\(dir.appendingPathComponent("pairs-train.jsonl").path)",
                        "eval_file=\(dir.appendingPathComponent("pairs-test.jsonl").path)", "output_dir=\(out.path)", "max_steps=60",
                        "learning_rate=0.003", "logging_steps=10", "eval_steps=60", "save_steps=60", "eval_on_start=true"]
        let train = try GRPOBinary.run(["train", "rm"] + settings.flatMap { ["--set", $0] })
        XCTAssertEqual(train.status, 0, train.err + train.out)
        let lines = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let evals = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { $0["eval/accuracy"] as? Double }
        XCTAssertEqual(evals.count, 2, "evaluations at steps 0 and 60")
        XCTAssertGreaterThanOrEqual(evals.last ?? 0, 0.95, "held-out questions, style preference learned: \(evals)")
        XCTAssertTrue(lines.contains { $0.contains("\"accuracy\"") && $0.contains("\"num_tokens\"") && $0.contains("\"margin\"") }, "TRL metric names")

        let checkpoint = out.appendingPathComponent("checkpoint-60")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint.appendingPathComponent("config.json")))
            as? [String: Any])
        XCTAssertEqual(config["architectures"] as? [String], ["Qwen2ForSequenceClassification"])
        XCTAssertEqual(config["num_labels"] as? Int ?? (config["id2label"] as? [String: Any])?.count, 1)
        // The saved model prefers the polite short answer of a held-out question, read by `grpo score`.
        let heldOut = try XCTUnwrap(try JSONL.read(dir.appendingPathComponent("pairs-test.jsonl")).rows.first)
        guard case .text(let prompt) = heldOut.prompt else { return XCTFail("text prompt") }
        func score(_ reply: String) throws -> Double {
            let result = try GRPOBinary.run(["score", "--model", checkpoint.path, "--text", prompt + (heldOut.columns[reply]?.stringValue ?? "")])
            XCTAssertEqual(result.status, 0, result.err)
            return try XCTUnwrap(Double(result.out.replacingOccurrences(of: "score ", with: "").trimmingCharacters(in: .whitespacesAndNewlines)),
                                 result.out)
        }
        XCTAssertGreaterThan(try score("chosen"), try score("rejected"))

        // A pair without `rejected` is named.
        let bad = dir.appendingPathComponent("bad.jsonl")
        try #"{"prompt": "Hi", "chosen": "Sure! Hi."}"#.write(to: bad, atomically: true, encoding: .utf8)
        let failed = try GRPOBinary.run(["train", "rm", "--set", settings[0], "--set", "train_file=\(bad.path)", "--set", "output_dir=\(dir.path)/x"])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.err.contains("\(bad.path): row 1 has no `rejected (text or a list of {role, content} messages)` column"), failed.err)
    }
}
