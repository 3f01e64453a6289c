import Foundation
import ModelIO
import Tasks
import TensorCore
import Tokenization
import Training
import Transformer

/// The recipe's embedded default data, tokenizer and base model, in `out/data` and `out/base`:
/// two reasoning tasks (arithmetic, countdown; R1 format) and a general one (`ChatPreferences`),
/// every row tagged with its `kind`. Written once; a rerun finds `out/data/done.json` and reuses them.
enum R1Data {
    /// The datasets stages name in train_file / eval_file.
    static let names = ["cold_start", "reasoning", "general", "all", "pairs", "pairs_test", "arithmetic_test", "countdown_test", "general_test"]
    static let addedTokens = ["<think>", "</think>", "<answer>", "</answer>"]

    static func file(_ name: String, in out: URL) -> URL { out.appendingPathComponent("data/\(name).jsonl") }
    static func base(in out: URL) -> URL { out.appendingPathComponent("base") }

    static func make(_ spec: R1RecipeFile.DataSpec, seed: Int, out: URL, log: (String) -> Void) throws {
        let done = out.appendingPathComponent("data/done.json")
        if FileManager.default.fileExists(atPath: done.path) { return log("data: done before (\(done.path))") }
        let s = UInt64(seed)
        func tagged(_ rows: [Row], _ kind: String) -> [Row] {
            rows.map { row in
                var row = row
                row.columns["kind"] = .string(kind)
                return row
            }
        }
        let arithmetic = try makeDataset(
            task: try BuiltinTasks.make("arithmetic", options: TaskOptions(digits: spec.arithmeticDigits,
                                                                           operations: spec.arithmeticOperations.split(separator: ",").map(String.init))),
            train: spec.arithmeticTrain, test: spec.arithmeticTest, seed: s, format: .r1)
        let countdown = try makeDataset(
            task: try BuiltinTasks.make("countdown", options: TaskOptions(numberCount: spec.countdownNumbers...spec.countdownNumbers,
                                                                          maxNumber: spec.countdownMaxNumber, maxTarget: spec.countdownMaxTarget)),
            train: spec.countdownTrain, test: spec.countdownTest, seed: s, format: .r1)
        let chat = ChatPreferences()
        let reasoning = interleave(tagged(arithmetic.train, "arithmetic"), tagged(countdown.train, "countdown"))
        let general = chat.prompts(count: spec.generalTrain, split: "train", seed: s)
        let files: [(String, [Row])] = [
            ("cold_start", interleave(Array(tagged(arithmetic.train, "arithmetic").prefix(spec.coldStartPerTask)),
                                      Array(tagged(countdown.train, "countdown").prefix(spec.coldStartPerTask)))),
            ("reasoning", reasoning), ("general", general), ("all", interleave(reasoning, general)),
            ("pairs", chat.pairs(count: spec.pairsTrain, split: "train", seed: s)), ("pairs_test", chat.pairs(count: spec.pairsTest, split: "test", seed: s)),
            ("arithmetic_test", tagged(arithmetic.test, "arithmetic")), ("countdown_test", tagged(countdown.test, "countdown")),
            ("general_test", chat.prompts(count: spec.generalTest, split: "test", seed: s)),
        ]
        for (name, rows) in files { try JSONL.write(rows, to: file(name, in: out)) }

        // A tokenizer on every text the run will see, and the base model (random, as R1's base is to us).
        var texts: [String] = []
        for (_, rows) in files {
            for row in rows {
                if case .text(let prompt) = row.prompt { texts.append(prompt) }
                for key in ["completion", "chosen", "rejected"] { if let t = row.columns[key]?.stringValue { texts.append(t) } }
            }
        }
        let tokenizerDir = out.appendingPathComponent("data/tokenizer")
        try FileManager.default.createDirectory(at: tokenizerDir, withIntermediateDirectories: true)
        let tokenizer = try TrainTokenizer.train(texts: texts, vocabSize: spec.vocabSize, specialTokens: ["<|endoftext|>"], addedTokens: addedTokens)
        try tokenizer.save(to: tokenizerDir)
        let model = try InitModel.create(preset: ModelPreset(rawValue: spec.preset) ?? .tiny, tokenizerFolder: tokenizerDir, seed: s)
        try? FileManager.default.removeItem(at: base(in: out))
        try ModelCheckpoint.save(model, to: base(in: out), tokenizerSource: tokenizerDir)
        try AtomicFile.write(Data(#"{"done": true}"#.utf8), to: done)
        log("data: \(files.map { "\($0.0) \($0.1.count)" }.joined(separator: ", ")) rows; tokenizer \(tokenizer.vocabSize) tokens; "
            + "base model \(spec.preset), \(model.config.parameterCount) parameters")
    }

    /// a0, b0, a1, b1, ... then the rest of the longer one.
    static func interleave(_ a: [Row], _ b: [Row]) -> [Row] {
        var out: [Row] = []
        for i in 0..<max(a.count, b.count) {
            if i < a.count { out.append(a[i]) }
            if i < b.count { out.append(b[i]) }
        }
        return out
    }
}
