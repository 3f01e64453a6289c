import ArgumentParser
import Evaluation
import Foundation
import Tasks
import Training

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
    @Option(help: "Answer checker: \(Verifiers.names.joined(separator: ", ")).") var verifier = "math_answer"
    @Option(help: "Seed for the samples.") var seed = 1
    @Flag(help: "Wrap prompts with the tokenizer's chat template.") var useChatTemplate = false
    @Flag(help: "Print the report as one JSON object.") var json = false

    func validate() throws {
        guard samples >= 0, k >= 1, maxNewTokens >= 1, temperature > 0 else {
            throw ValidationError("--samples >= 0, -k >= 1, --max-new-tokens >= 1 and --temperature > 0 are required")
        }
        guard Verifiers.names.contains(verifier) else {
            throw ValidationError("--verifier must be one of \(Verifiers.names.joined(separator: ", ")), got \(verifier)")
        }
    }

    func run() throws {
        let bundle = try ModelBundle.load(model)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: useChatTemplate, model: model)
        let prompts = try TrainingPrompt.load(data, formatter: formatter, codec: bundle.codec, positions: bundle.model.config.maxPositionEmbeddings,
                                              completionTokens: maxNewTokens, skipBadLines: false, log: { print($0) })
            .prefix(samples > 0 ? samples : Int.max)
        let codec = bundle.codec
        let evaluator = Evaluator(model: bundle.model, decode: { codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs,
                                  verifier: try Verifiers.named(verifier))
        let report = evaluator.run(prompts: prompts.map(\.ids), columns: prompts.map(\.columns), k: k, temperature: Float(temperature),
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
