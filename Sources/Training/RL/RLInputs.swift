import Evaluation
import Foundation
import Rewards
import Tasks
import Transformer

/// What an RL trainer (GRPO, PPO) loads from its settings: the policy and tokenizer (checked to fit),
/// the training prompts and the held-out prompts (each leaving room for `completionTokens` in the
/// model's positions), the tokenizer files checkpoints copy, and the verifier of the held-out rows.
public struct RLInputs {
    public let bundle: ModelBundle
    public let prompts: [TrainingPrompt]
    public let heldOut: [TrainingPrompt]
    public let tokenizerSource: URL
    public let verifier: Verifier

    public static func load(_ t: TrainingConfig, completionTokens: Int, rewardFunctions: [String], skipBadLines: Bool,
                            log: (String) -> Void) throws -> RLInputs {
        let bundle = try ModelBundle.load(t.model)
        let formatter = try PromptFormatter(tokenizer: bundle.tokenizer, useChatTemplate: t.useChatTemplate, model: t.model)
        func prompts(_ path: String) throws -> [TrainingPrompt] {
            try TrainingPrompt.load(path, formatter: formatter, codec: bundle.codec, positions: bundle.model.config.maxPositionEmbeddings,
                                    completionTokens: completionTokens, skipBadLines: skipBadLines, log: log)
        }
        let train = try prompts(t.trainFile), verifier = try t.resolvedVerifier(rewardFunctions: rewardFunctions)
        try RewardColumns.check(rewardFunctions, prompts: train, file: t.trainFile)
        let heldOut = Array(try t.evalFile.map { try prompts($0).prefix(t.evalSamples) } ?? [])
        try t.evalFile.map { try RewardColumns.check([verifier.name], prompts: heldOut, file: $0) }
        return RLInputs(bundle: bundle, prompts: train, heldOut: heldOut,
                        tokenizerSource: try bundle.tokenizerFolder(outputDir: t.outputDir), verifier: verifier)
    }
}

/// Held-out evaluation of a policy: greedy accuracy, pass@1, unbiased pass@k and maj@k over the
/// held-out prompts, with their verifier (nil when there are no held-out prompts).
struct HeldOutSet {
    let evaluator: Evaluator
    let prompts: [[Int32]]
    let columns: [[String: JSONValue]]

    /// For code (verifier `code`), also the share of completions that run (`eval/executable`).
    init?(policy: DecoderModel, codec: TextCodec, prompts: [TrainingPrompt], verifier: Verifier) {
        guard !prompts.isEmpty else { return nil }
        let also = verifier.name == "code" ? (try? AnswerVerifiers.named("code_runs")).map { ["executable": $0] } ?? [:] : [:]
        evaluator = Evaluator(model: policy, decode: { codec.decode($0) }, eosTokenIDs: codec.eosTokenIDs, verifier: verifier, also: also)
        self.prompts = prompts.map(\.ids)
        columns = prompts.map(\.columns)
    }

    /// Logs a line first: an evaluation of a real model can take minutes.
    func evaluate(step: Int, k: Int, temperature: Double, maxNewTokens: Int, seed: Int, log: (String) -> Void) -> HeldOutEvaluation {
        log("step \(step): evaluating \(prompts.count) held-out problems (greedy and \(k) samples each)")
        let report = evaluator.run(prompts: prompts, columns: columns, k: k, temperature: Float(temperature), maxNewTokens: maxNewTokens,
                                   seed: UInt64(bitPattern: Int64(seed)) &+ 17)
        return HeldOutEvaluation(metrics: report.metrics, summary: String(
            format: "step %d held-out (%d problems): greedy %.1f%%  pass@1 %.1f%%  pass@%d %.1f%%  maj@%d %.1f%%", step,
            report.problems, 100 * report.greedy, 100 * report.pass1, report.k, 100 * report.passK, report.k, 100 * report.majK))
    }
}
