import ArgumentParser
import Foundation
import TensorCore
import Tracking
import Training

/// `grpo demo ppo-vs-grpo`: the seed's comparison measured on learning. For each seed, the demo's
/// stages up to the SFT starting policy, then the same minutes of GRPO (recipes/demo/grpo.yaml) and of
/// PPO (recipes/demo/ppo.yaml) from that checkpoint: held-out pass@1 against training time, greedy,
/// pass@8 and maj@8 before and after, the spread of pass@1 across seeds and of the per-step gradient
/// norm, as a table, and one report with every run overlaid.
struct PPOvsGRPODemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo-vs-grpo",
        abstract: "GRPO and PPO for the same minutes from the demo's SFT checkpoint, over seeds: held-out accuracy against time, and the spread.")

    @Option(help: "Working folder (a subfolder per seed).") var out = "runs/ppo-vs-grpo"
    @Option(help: "Seeds, comma-separated.") var seeds = "1,2"
    @Option(help: "Minutes of training (evaluation excluded) for each algorithm and seed.") var minutes = 5.0
    @Option(help: "The folder holding sft.yaml, grpo.yaml and ppo.yaml (default: recipes/demo in the repository).") var recipes: String?

    var seedList: [Int] { seeds.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !seedList.isEmpty, minutes > 0, minutes.isFinite else { throw ValidationError("--seeds needs at least one integer and --minutes must be positive") }
    }

    struct Outcome {
        let algorithm: String
        let seed: Int
        let directory: URL
        let run: RunSummary
        let gradNorms: [Double]
        let stepSeconds: [Double]
    }

    func run() throws {
        let start = Clock.now()
        var outcomes: [Outcome] = []
        for seed in seedList {
            let options = try DemoStageOptions.parse(["--out", "\(out)/seed\(seed)", "--seed", String(seed)] + (recipes.map { ["--recipes", $0] } ?? []))
            let demo = try DemoStages(options)
            let sft = try demo.startingPolicy()
            let limit = [("max_train_time", Optional<Any>(minutes * 60))]
            for algorithm in ["GRPO", "PPO"] {
                let dir = demo.root.appendingPathComponent(algorithm.lowercased())
                let summary: RunSummary
                if algorithm == "GRPO" {
                    summary = try demo.train(GRPOConfig.self, recipe: "grpo.yaml", from: sft.checkpoint, into: dir, options: limit) {
                        try GRPOTrainer(config: $0).train()
                    }.1
                } else {
                    summary = try demo.train(PPOConfig.self, recipe: "ppo.yaml", from: sft.checkpoint, into: dir, options: limit) {
                        try PPOTrainer(config: $0).train()
                    }.1
                }
                let record = try RunRecord.load(dir)
                outcomes.append(Outcome(algorithm: algorithm, seed: seed, directory: dir, run: summary,
                                        gradNorms: record.series("grad_norm", time: false).map(\.y),
                                        stepSeconds: record.series("step_time", time: false).map(\.y)))
                demo.stage("\(algorithm) seed \(seed): \(summary.steps) steps")
            }
        }
        print(table(outcomes))
        let page = try Report.write(runs: outcomes.map(\.directory), names: outcomes.map { "\($0.algorithm) seed \($0.seed)" },
                                    title: "GRPO vs PPO, \(fixed(minutes, 0)) minutes each", to: URL(fileURLWithPath: out).appendingPathComponent("report.html"))
        print(String(format: "[%6.1fs] done; report: %@", Clock.now() - start, page.path))
    }

    /// The comparison as a table: per run, and per algorithm across seeds.
    func table(_ outcomes: [Outcome]) -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%5.1f", 100 * $0) } ?? "   - " }
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(xs.count, 1)) }
        func std(_ xs: [Double]) -> Double {
            let m = mean(xs)
            return xs.count > 1 ? (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot() : 0
        }
        var lines = ["", "held-out (200 problems; pass@1, pass@8 and maj@8 from 8 samples at temperature 1): start -> end, "
                     + "and pass@1 at each minute of training",
                     "algorithm seed steps  s/step | greedy        pass@1        pass@8        maj@8         | pass@1 at 1, 2, ... min"]
        for o in outcomes {
            let first = o.run.evaluations.first?.metrics ?? [:], last = o.run.evaluations.last?.metrics ?? [:]
            let curve = (1...max(Int(minutes), 1)).map { m in
                pct(o.run.evaluations.last { $0.trainTime <= Double(m) * 60 + 1 }?.metrics["eval/pass@1"])
            }.joined(separator: " ")
            lines.append(String(format: "%-9@ %4d %5d %7.3f | ", o.algorithm as NSString, o.seed, o.run.steps, mean(o.stepSeconds))
                         + ["eval/greedy", "eval/pass@1", "eval/pass@8", "eval/maj@8"].map { "\(pct(first[$0])) ->\(pct(last[$0]))" }
                            .joined(separator: " ") + " | " + curve)
        }
        lines.append("")
        for algorithm in ["GRPO", "PPO"] {
            let runs = outcomes.filter { $0.algorithm == algorithm }
            let ends = runs.compactMap { $0.run.evaluations.last?.metrics["eval/pass@1"] }
            let norms = runs.flatMap(\.gradNorms)
            lines.append(String(format: "%@: final pass@1 %.1f%% +- %.1f (std over %d seeds); per-step grad norm %.3f +- %.3f (std), "
                                + "coefficient of variation %.2f", algorithm, 100 * mean(ends), 100 * std(ends), ends.count, mean(norms), std(norms),
                                std(norms) / max(mean(norms), 1e-12)))
        }
        return lines.joined(separator: "\n")
    }
}
