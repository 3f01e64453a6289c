import ArgumentParser
import Foundation
import TensorCore
import Training
import Transformer

/// `grpo score`: each token's log-probability given the tokens before it.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each token's log-probability given the tokens before it, or a reward model's score of the text.",
        discussion: "STRING is tokenized without added special tokens unless the tokenizer's post-processor adds them. A reward model "
            + "(a sequence-classification folder, e.g. from grpo train rm) prints its score, read as in training: the end token "
            + "appended, the score at the last non-padding token.")

    @Option(help: "A model folder or .gguf file.") var model: String
    @Option(help: "The text to score.") var text: String
    @Flag(help: "Print {\"ids\": [...], \"logprobs\": [null, ...], \"total\": x} as one JSON object.") var json = false

    func run() throws {
        let bundle = try ModelBundle.load(model)
        let (decoder, tokenizer) = (bundle.model, bundle.tokenizer)
        if decoder.config.scoreLabels == 1 {
            let sequence = RewardSequence(model: decoder, codec: bundle.codec)
            let ids = try sequence.ids(text, codec: bundle.codec)
            let score = sequence.scores(decoder, [ids], batchSize: 1)[0]
            if json, !score.isFinite { throw nonFinite("the score", Double(score)) }
            return print(json ? "{\"ids\":\(ids.map(Int.init)),\"score\":\(score)}" : String(format: "score %.6f", score))
        }
        let ids = try tokenizer.encode(text, addSpecialTokens: true).map(Int32.init)
        guard !ids.isEmpty else { throw ValidationError("--text encodes to no tokens") }
        var logprobs: [Double?] = [nil]
        if ids.count > 1 {
            let batch = DecoderModel.Batch(ids: ids, attentionMask: [Int32](repeating: 1, count: ids.count), batch: 1, time: ids.count)
            let lp = decoder.tokenLogprobs(Tape(recording: false), batch, positions: Array(0..<(ids.count - 1)),
                                           targets: Array(ids.dropFirst())).logprob
            logprobs += lp.values.map { Double($0) }
        }
        let total = logprobs.compactMap { $0 }.reduce(0, +)
        if json, let i = logprobs.firstIndex(where: { $0?.isFinite == false }), let bad = logprobs[i] {
            throw nonFinite("the log-probability of token \(i)", bad)
        }
        if json {
            let object: [String: Any] = ["ids": ids.map(Int.init), "logprobs": logprobs.map { $0 as Any? ?? NSNull() }, "total": total]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for (i, id) in ids.enumerated() {
            let piece = tokenizer.decode([Int(id)]).debugDescription
            print("\(String(id).padding(toLength: 8, withPad: " ", startingAt: 0)) \(piece.padding(toLength: 20, withPad: " ", startingAt: 0)) "
                  + (logprobs[i].map { String(format: "%.5f", $0) } ?? "-"))
        }
        print(String(format: "total %.5f", total))
    }

    /// JSON has no NaN or infinity: a model that gives one is named rather than left to the encoder.
    func nonFinite(_ what: String, _ value: Double) -> RunSetupError {
        .unsupported(model: model, reason: "--json: \(what) is \(value), which JSON cannot hold; the model's weights give "
                         + "non-finite numbers (NaN or Inf?); without --json the values are printed")
    }
}
