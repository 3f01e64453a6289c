import ArgumentParser

/// `grpo demo`: small end-to-end runs that show the engine working.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a small end-to-end demonstration.",
        subcommands: [RecipeDemo.self, SFTDemo.self, EngineDemo.self],
        defaultSubcommand: RecipeDemo.self
    )
}

/// `grpo demo sft`: the recipe up to the SFT starting policy (data, tokenizer, model, SFT).
struct SFTDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sft",
                                                    abstract: "Data -> tokenizer -> tiny model -> SFT to the starting policy GRPO improves.")
    @Option(help: "Working folder.") var out = "runs/demo"
    @Option(help: "Seed.") var seed = 1
    @Option(help: "SFT optimizer steps.") var sftSteps = 390

    func run() throws {
        let recipe = try RecipeDemo.parse(["--out", out, "--seed", String(seed), "--sft-steps", String(sftSteps), "--grpo-steps", "0"])
        try recipe.run()
    }
}
