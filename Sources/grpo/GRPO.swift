import ArgumentParser

@main
struct GRPO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Train language models with GRPO on the CPU.",
        subcommands: [Demo.self, Convert.self, Bench.self]
    )
}
