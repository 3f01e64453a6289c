import ArgumentParser
import Foundation
import Training

/// `grpo demo code`: code-execution rewards end to end. Small Python function tasks (a seeded
/// grammar of integer, list and string operations, hidden tests), a tokenizer and a tiny model
/// trained on them, SFT to a starting policy, then GRPO with the code_tests reward run in the sandbox;
/// held-out executability (the code runs) and correctness (all tests pass) before and after.
struct CodeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Code task -> tokenizer -> tiny model -> SFT -> GRPO with code_tests (sandboxed): executability and correctness before and after.")

    @Option(help: "Working folder (replaced stage by stage).") var out = "runs/code"
    @Option(help: "Seed for data, initialisation and sampling.") var seed = 1
    @Option(help: "The folder holding the stages' configs sft.yaml and grpo.yaml (default: recipes/code in the repository).")
    var recipes: String?
    @Option(help: "GRPO optimizer steps (default: the recipe's max_steps).") var grpoSteps: Int?

    func run() throws {
        let options = try DemoStageOptions.parse(["--out", out, "--seed", String(seed)] + (recipes.map { ["--recipes", $0] } ?? []))
        let demo = try DemoStages(options, task: .code)
        let sft = try demo.startingPolicy()
        let grpoDir = demo.root.appendingPathComponent("grpo")
        let (grpo, run) = try demo.train(GRPOConfig.self, recipe: "grpo.yaml", from: sft.checkpoint, into: grpoDir,
                                         options: [("max_steps", grpoSteps)]) { try GRPOTrainer(config: $0).train() }
        demo.stage("GRPO: \(run.steps) steps; metrics in \(grpoDir.appendingPathComponent("metrics.jsonl").path)")
        if let first = run.evaluations.first?.metrics, let last = run.evaluations.last?.metrics {
            let k = grpo.evalNumSamples
            print("held-out (\(grpo.training.evalSamples) problems, \(k) samples at temperature \(grpo.evalTemperature ?? grpo.rollout.temperature)):")
            for (key, label) in [("eval/executable", "executable"), ("eval/greedy", "greedy"), ("eval/pass@1", "pass@1"),
                                 ("eval/pass@\(k)", "pass@\(k)"), ("eval/maj@\(k)", "maj@\(k)")] {
                print(String(format: "  %-11@ before %5.1f%%  after %5.1f%%", label as NSString, 100 * (first[key] ?? 0), 100 * (last[key] ?? 0)))
            }
            print("executability and pass@1 against GRPO training time (evaluation excluded): "
                  + run.evaluations.map { String(format: "%.0fs %.1f%%/%.1f%%", $0.trainTime, 100 * ($0.metrics["eval/executable"] ?? 0),
                                                 100 * ($0.metrics["eval/pass@1"] ?? 0)) }.joined(separator: ", "))
            let rewardTime = Clock.median(try RunRecord.load(grpoDir).series("time/reward", time: false).map(\.y))
            let stepTime = Clock.median(try RunRecord.load(grpoDir).series("step_time", time: false).map(\.y))
            print(String(format: "reward time %.3f s of a %.3f s step (median): %.0f%%", rewardTime, stepTime, 100 * rewardTime / max(stepTime, 1e-9)))
        }
        let report = try Report.write(runs: [sft.directory, grpoDir], names: ["SFT", "GRPO"], title: "grpo demo code (seed \(seed))",
                                      to: demo.root.appendingPathComponent("report.html"))
        demo.stage("done; report: \(report.path)")
    }
}

import TensorCore
import Tracking
