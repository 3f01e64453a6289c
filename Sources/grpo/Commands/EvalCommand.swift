import ArgumentParser
import Evaluation
import Foundation
import Rewards
import Tasks
import TensorCore
import Tracking
import Training

/// `grpo eval`: held-out accuracy of a model on a JSONL file — greedy, pass@1 (mean correctness of
/// k samples), unbiased pass@k and maj@k — the same figures GRPO logs as eval/*; for code, also the
/// executability rate (DeepSeek-R1's two code figures: executability and correctness).
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out greedy accuracy, pass@1, pass@k and maj@k of a model on JSONL rows (for code: executability too).",
        discussion: """
            Rows need `prompt` plus what the verifier reads: `answer` for math_answer, `numbers` and `target` for countdown, \
            `tests` for code (grpo data make --task code), `test` and `entry_point` for HumanEval (make humaneval writes \
            data/humaneval/HumanEval.jsonl). --task picks the verifier: math (math_answer), countdown, code, humaneval (code, \
            and a chat instruction to complete the function when --use-chat-template).
            """)

    @Option(help: "A model folder (e.g. a checkpoint) or .gguf file.") var model: String
    @Option(help: "JSONL rows to evaluate (default for --task humaneval: data/humaneval/HumanEval.jsonl).") var data: String?
    @Option(help: "math, countdown, code or humaneval (sets the verifier).") var task: String?
    @Option(help: "Evaluate the first N rows (0: all).") var samples = 200
    @Option(name: .customShort("k"), help: "Samples per prompt for pass@1, pass@k and maj@k.") var k = 8
    @Option(help: "Sampling temperature for the k samples.") var temperature = 1.0
    @Option(help: "New tokens per completion at most.") var maxNewTokens = 48
    @Option(help: "Answer checker: \(AnswerVerifiers.names.joined(separator: ", ")) (default: from --task, else math_answer).")
    var verifier: String?
    @Option(help: "Seed for the samples.") var seed = 1
    @Flag(help: "Wrap prompts with the tokenizer's chat template.") var useChatTemplate = false
    @Option(help: "Write every completion (greedy, then the k samples) with its verdict as JSONL (HumanEval's sample format).")
    var samplesOut: String?
    @Flag(help: "Print the report as one JSON object.") var json = false

    static let tasks = ["math": "math_answer", "countdown": "countdown", "code": "code", "humaneval": "code"]

    var verifierName: String { verifier ?? task.flatMap { Self.tasks[$0] } ?? "math_answer" }
    var dataPath: String? { data ?? (task == "humaneval" ? "data/humaneval/HumanEval.jsonl" : nil) }

    func validate() throws {
        guard samples >= 0, k >= 1, maxNewTokens >= 1, temperature > 0 else {
            throw ValidationError("--samples >= 0, -k >= 1, --max-new-tokens >= 1 and --temperature > 0 are required")
        }
        // k completions of each prompt are sampled as one batch: as --num-return and num_generations.
        guard k <= 4096 else { throw ValidationError("-k must be in 1...4096, got \(k)") }
        if let task, Self.tasks[task] == nil { throw ValidationError("--task must be one of \(Self.tasks.keys.sorted().joined(separator: ", ")), got \(task)") }
        guard AnswerVerifiers.names.contains(verifierName) else {
            throw ValidationError("--verifier must be one of \(AnswerVerifiers.names.joined(separator: ", ")), got \(verifierName)")
        }
        guard dataPath != nil else { throw ValidationError("--data is required (except with --task humaneval)") }
    }

    func run() throws {
        guard let dataPath else { return }
        let bundle = try ModelBundle.load(model)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: useChatTemplate, model: model,
                                            instruction: task == "humaneval" ? Self.humanEvalInstruction : nil)
        let prompts = try TrainingPrompt.load(dataPath, formatter: formatter, codec: bundle.codec, positions: bundle.model.config.maxPositionEmbeddings,
                                              completionTokens: maxNewTokens, skipBadLines: false, log: { print($0) })
            .prefix(samples > 0 ? samples : Int.max)
        let codec = bundle.codec
        let check = try AnswerVerifiers.named(verifierName)
        let also = verifierName == "code" ? ["executable": try AnswerVerifiers.named("code_runs")] : [:]
        let evaluator = Evaluator(model: bundle.model, decode: { codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs, verifier: check, also: also)
        var written: [[String: JSONLine]] = []
        // Progress with ETA (a real model's evaluation takes minutes); not with --json, whose stdout is one object.
        let bar = ProgressBar(total: prompts.count, startTime: Clock.now())
        let report = evaluator.run(prompts: prompts.map(\.ids), columns: prompts.map(\.columns), k: k, temperature: Float(temperature),
                                   maxNewTokens: maxNewTokens, seed: UInt64(seed), record: { row, texts, verdicts in
            guard samplesOut != nil else { return }
            let columns = prompts[prompts.startIndex + row].columns
            for (i, (text, verdict)) in zip(texts, verdicts).enumerated() {
                let program = CodeTests.program(completion: text, row: columns)
                let prompt = columns["prompt"]?.stringValue ?? ""
                written.append(["task_id": .string(columns["task_id"]?.stringValue ?? "\(row)"), "sample": .int(i),
                                "greedy": .bool(i == 0), "text": .string(text), "passed": verdict.map { .bool($0) } ?? .null,
                                // HumanEval's harness runs prompt + completion: the program without the prompt.
                                "completion": .string(program.map { $0.hasPrefix(prompt) ? String($0.dropFirst(prompt.count)) : $0 } ?? text)])
            }
        }, progress: { done in
            if !json { bar.show(bar.line(step: done, startStep: 0, now: Clock.now(), figures: [("problems", "evaluated")]), step: done) }
        })
        if let samplesOut {
            let log = try StepLog(url: URL(fileURLWithPath: samplesOut), resumingAt: nil)
            try log.append(written)
        }
        if json {
            var object: [String: Any] = report.metrics
            object["problems"] = report.problems
            object["k"] = report.k
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%d problems, k = %d at temperature %.2f: greedy %.1f%%  pass@1 %.1f%%  pass@%d %.1f%%  maj@%d %.1f%%",
                         report.problems, k, temperature, 100 * report.greedy, 100 * report.pass1, k, 100 * report.passK,
                         k, 100 * report.majK) + (report.also["executable"].map { String(format: "  executable %.1f%%", 100 * $0) } ?? ""))
        }
    }

    /// How a chat model is asked for a HumanEval function.
    static let humanEvalInstruction = "Complete the following Python function. Reply with the whole function in a ```python code block."
}
