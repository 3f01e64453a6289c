import ArgumentParser

/// `grpo demo`: small end-to-end runs that show the engine working.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a small end-to-end demonstration.",
        subcommands: [EngineDemo.self],
        defaultSubcommand: EngineDemo.self
    )
}
