import ArgumentParser

@main
struct GRPO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Train language models with GRPO on the CPU.",
        subcommands: [Demo.self, Train.self, Generate.self, Score.self, Eval.self, DataCommand.self, TokenizerCommand.self, ModelCommand.self, Convert.self, Bench.self, Logits.self]
    )
}
