import ArgumentParser

/// `grpo demo`: the recipe end to end on an embedded task.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a small end-to-end demonstration.",
        subcommands: [RecipeDemo.self, SFTDemo.self],
        defaultSubcommand: RecipeDemo.self
    )
}

/// `grpo demo sft`: the recipe up to the SFT starting policy (data, tokenizer, model, SFT).
struct SFTDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sft",
                                                    abstract: "Data -> tokenizer -> tiny model -> SFT to the starting policy GRPO improves.")
    @Option(help: "Working folder.") var out = "runs/demo"
    @Option(help: "Seed.") var seed = 1
    @Option(help: "Most SFT optimizer steps.") var sftSteps = 600
    @Option(help: "SFT stops once held-out greedy accuracy reaches this.") var sftTarget = 0.3

    func run() throws {
        let recipe = try RecipeDemo.parse(["--out", out, "--seed", String(seed), "--sft-steps", String(sftSteps),
                                           "--sft-target", String(sftTarget), "--grpo-steps", "0"])
        try recipe.run()
    }
}
