import ArgumentParser
import Evaluation
import Foundation
import Tasks

/// `grpo eval`: held-out accuracy of a model on a JSONL file — greedy, pass@1 (mean correctness of
/// k samples), unbiased pass@k and maj@k — the same figures GRPO logs as eval/*.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out greedy accuracy, pass@1, pass@k and maj@k of a model on JSONL rows.",
        discussion: "Rows need `prompt` plus what the verifier reads: `answer` for math_answer, `numbers` and `target` for countdown.")

    @Option(help: "A model folder (e.g. a checkpoint) or .gguf file.") var model: String
    @Option(help: "JSONL rows to evaluate.") var data: String
    @Option(help: "Evaluate the first N rows (0: all).") var samples = 200
    @Option(name: .customShort("k"), help: "Samples per prompt for pass@1, pass@k and maj@k.") var k = 8
    @Option(help: "Sampling temperature for the k samples.") var temperature = 1.0
    @Option(help: "New tokens per completion at most.") var maxNewTokens = 48
    @Option(help: "Answer checker: math_answer or countdown.") var verifier = "math_answer"
    @Option(help: "Seed for the samples.") var seed = 1
    @Flag(help: "Wrap prompts with the tokenizer's chat template.") var useChatTemplate = false
    @Flag(help: "Print the report as one JSON object.") var json = false

    func validate() throws {
        guard samples >= 0, k >= 1, maxNewTokens >= 1, temperature > 0 else {
            throw ValidationError("--samples >= 0, -k >= 1, --max-new-tokens >= 1 and --temperature > 0 are required")
        }
        guard ["math_answer", "countdown"].contains(verifier) else {
            throw ValidationError("--verifier must be math_answer or countdown, got \(verifier)")
        }
    }

    func run() throws {
        let (decoder, tokenizer) = try ModelLoading.modelAndTokenizer(model)
        let text = try TrainingData(tokenizer: tokenizer, useChatTemplate: useChatTemplate)
        let codec = TokenizerCodec(tokenizer: tokenizer, eosTokenIDs: ModelLoading.eosTokenIDs(model, model: decoder, tokenizer: tokenizer))
        var rows = try TrainingData.rows(data)
        if samples > 0 { rows = Array(rows.prefix(samples)) }
        guard !rows.isEmpty else { throw ValidationError("\(data) has no rows") }
        let prompts = try rows.map { try codec.encode(try text.promptText($0)) }
        let evaluator = Evaluator(model: decoder, decode: { codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs,
                                  isCorrect: TrainingData.verifier(verifier),
                                  finalAnswer: { AnswerExtractor.finalAnswer(in: $0).map { "\($0)" } })
        let report = evaluator.run(prompts: prompts, columns: rows.map(\.columns), k: k, temperature: Float(temperature),
                                   maxNewTokens: maxNewTokens, seed: UInt64(seed))
        if json {
            var object: [String: Any] = report.metrics
            object["problems"] = report.problems
            object["k"] = report.k
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%d problems, k = %d at temperature %.2f: greedy %.1f%%  pass@1 %.1f%%  pass@%d %.1f%%  maj@%d %.1f%%",
                         report.problems, k, temperature, 100 * report.greedy, 100 * report.pass1, k, 100 * report.passK,
                         k, 100 * report.majK))
        }
    }
}
