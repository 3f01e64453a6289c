import Foundation
import Tasks
import Tokenization
import Transformer
import XCTest

/// A folder with a small addition dataset (R1 format), a tokenizer trained on it and a small
/// random model, for tests that run the `grpo` binary.
struct TinyRun {
    let dir: URL
    let tokenizer: Tokenizer
    var model: URL { dir.appendingPathComponent("model") }
    var train: URL { dir.appendingPathComponent("train.jsonl") }
    var test: URL { dir.appendingPathComponent("test.jsonl") }
    var tokenizerFolder: URL { dir.appendingPathComponent("tok") }

    /// `vocabulary` overrides the model's vocab_size (smaller than the tokenizer's: a mismatch).
    init(_ name: String, vocabulary: Int? = nil) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let splits = try makeDataset(task: try ArithmeticTask(digits: 2, operations: [.add]), train: 300, test: 16, seed: 3, format: .r1)
        try JSONL.write(splits.train, to: dir.appendingPathComponent("train.jsonl"))
        try JSONL.write(splits.test, to: dir.appendingPathComponent("test.jsonl"))
        let texts = splits.train.flatMap { row -> [String] in
            if case .text(let prompt) = row.prompt { return [prompt, row.completionText ?? ""] }
            return []
        }
        tokenizer = try BPETrainer(vocabSize: 300, specialTokens: ["<|endoftext|>"])
            .train(texts, config: TokenizerConfig(eosToken: "<|endoftext|>"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tok"), withIntermediateDirectories: true)
        try tokenizer.save(to: dir.appendingPathComponent("tok"))
        let m = DecoderModel(config: DecoderConfig(modelType: "qwen2", vocabSize: vocabulary ?? tokenizer.vocabSize, hiddenSize: 32,
                                                   intermediateSize: 64, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                                   tieWordEmbeddings: true, qkvBias: true, eosTokenIDs: [tokenizer.eosTokenID ?? 0]))
        m.initialize(seed: 1, std: 0.2)
        try ModelCheckpoint.save(m, to: dir.appendingPathComponent("model"), tokenizerSource: dir.appendingPathComponent("tok"))
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    /// `reward_funcs` value of a reward that differs between random completions (their length in
    /// characters mod 5), so GRPO's advantages are not all zero on an untrained model.
    func lengthRewardCommand() throws -> String {
        let script = dir.appendingPathComponent("length-reward.py")
        try Data("""
            #!/usr/bin/env python3
            import json, sys
            for line in sys.stdin:
                print(json.dumps({"rewards": [len(c) % 5 for c in json.loads(line)["completions"]]}), flush=True)
            """.utf8).write(to: script)
        chmod(script.path, 0o755)
        return "command:" + script.path
    }

    /// `--set` arguments for a short run of `trainer` writing to `output`.
    func settings(_ trainer: String, output: String, _ extra: [String] = []) -> [String] {
        let common = ["model=\(model.path)", "train_file=\(train.path)", "output_dir=\(dir.appendingPathComponent(output).path)",
                      "max_steps=2", "logging_steps=1", "save_steps=2"]
        let own: [String]
        switch trainer {
        case "grpo": own = ["per_device_train_batch_size=8", "num_generations=4", "max_completion_length=8", "log_completions_steps=0",
                            "eval_on_start=false"]
        case "ppo": own = ["per_device_train_batch_size=4", "gradient_accumulation_steps=2", "response_length=8", "eval_on_start=false"]
        default: own = ["per_device_train_batch_size=4"]
        }
        return (common + own + extra).flatMap { ["--set", $0] }
    }
}
