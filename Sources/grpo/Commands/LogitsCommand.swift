import ArgumentParser
import Foundation
import Training
import TensorCore
import Transformer

/// `grpo logits --model PATH --ids 1,2,3 [--json]`: the logits of one token sequence, for parity
/// checks against other implementations (Scripts/check_gguf_parity.py).
struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's logits for a sequence of token ids (a debugging aid).",
        discussion: """
            Without --json, prints the last position's logits, one per line. With --json, prints \
            {"ids": [...], "vocab_size": V, "width": W, "logits": [[...], ...]} with one row per position. For a \
            sequence-classification model (a PPO value model, a reward model) the rows are its score head's outputs (W = num_labels).
            """
    )

    @Option(help: "The model: a Hugging Face folder or a .gguf file.") var model: String
    @Option(help: "Comma-separated token ids, e.g. 1,2,3.") var ids: String
    @Flag(help: "Print the logits of every position as JSON.") var json = false

    func tokenIDs() throws -> [Int32] {
        let parts = ids.split(separator: ",", omittingEmptySubsequences: false)
        let parsed = parts.map { Int32($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, let values = parsed as? [Int32], values.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--ids must be comma-separated non-negative integers, got '\(ids)'")
        }
        return values
    }

    func validate() throws { _ = try tokenIDs() }

    func run() throws {
        let decoder = try ModelBundle.loadModel(model)
        let tokens = try tokenIDs()
        let vocab = decoder.config.vocabSize
        if let bad = tokens.first(where: { Int($0) >= vocab }) {
            throw ValidationError("token id \(bad) is not below the vocabulary size \(vocab)")
        }
        let time = tokens.count
        let batch = DecoderModel.Batch(ids: tokens, positions: (0..<time).map(Int32.init), batch: 1, time: time)
        // A sequence-classification model (value or reward model): its score head's outputs per position.
        let width = decoder.config.scoreLabels ?? vocab
        let logits = decoder.config.scoreLabels == nil ? decoder.logits(Tape(recording: false), batch)  // (1, T, V)
            : decoder.scores(Tape(recording: false), batch, positions: Array(0..<time))  // (T, N)
        let row = { (t: Int) in UnsafeBufferPointer(start: logits.data + t * width, count: width) }
        if json {
            let rows = (0..<time).map { t in "[" + row(t).map(Self.number).joined(separator: ",") + "]" }
            print("{\"ids\":[\(tokens.map(String.init).joined(separator: ","))],\"vocab_size\":\(vocab),\"width\":\(width),\"logits\":[\(rows.joined(separator: ","))]}")
        } else {
            print(row(time - 1).map(Self.number).joined(separator: "\n"))
        }
    }

    /// A float as the shortest text that reads back to it (null when not finite, as JSON has no NaN).
    static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
}
