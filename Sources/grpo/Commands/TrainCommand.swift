import ArgumentParser
import Foundation
import Rewards
import Training

/// `grpo train sft|grpo`: the trainers, configured by YAML with `--set key=value` overrides.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (supervised fine-tuning or GRPO).",
        subcommands: [SFTCommand.self, GRPOCommand.self])
}

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft", abstract: "Supervised fine-tuning on prompt/completion rows.",
        discussion: "Config keys:\n" + SFTConfig.documentation)

    @OptionGroup var options: TrainOptions

    func run() throws {
        let config = try options.resolve(SFTConfig.self)
        if options.printConfig { return print(config.yaml, terminator: "") }
        try SFTTrainer(config: config, skipBadLines: options.skipBadLines).train(resume: options.resume)
    }
}

struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo", abstract: "Group Relative Policy Optimization from a model folder, SFT checkpoint or GGUF file.",
        discussion: "Config keys (TRL's GRPOConfig names):\n" + GRPOConfig.documentation)

    @OptionGroup var options: TrainOptions

    func run() throws {
        let config = try options.resolve(GRPOConfig.self)
        if options.printConfig { return print(config.yaml, terminator: "") }
        try GRPOTrainer(config: config, skipBadLines: options.skipBadLines).train(resume: options.resume)
    }
}
