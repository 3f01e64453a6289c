import ArgumentParser

/// `grpo demo`: the recipe end to end on an embedded task.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a small end-to-end demonstration.",
        subcommands: [RecipeDemo.self, SFTDemo.self, PPOvsGRPODemo.self, CodeDemo.self, SmolLM2Demo.self],
        defaultSubcommand: RecipeDemo.self
    )
}

/// `grpo demo sft`: the recipe up to the SFT starting policy (data, tokenizer, model, SFT).
struct SFTDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sft",
                                                    abstract: "Data -> tokenizer -> tiny model -> SFT to the starting policy GRPO improves.")
    @OptionGroup var stages: DemoStageOptions

    func run() throws {
        let recipe = try RecipeDemo.parse(stages.arguments + ["--grpo-steps", "0"])
        try recipe.run()
    }
}
