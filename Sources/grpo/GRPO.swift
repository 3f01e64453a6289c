import ArgumentParser
import CKernels

@main
struct GRPO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Train language models with GRPO on the CPU.",
        subcommands: [Demo.self, Train.self, RecipeCommand.self, Generate.self, Score.self, Eval.self, Sample.self, Report.self, SandboxCommand.self, DataCommand.self, TokenizerCommand.self, ModelCommand.self, Convert.self, Bench.self, Logits.self]
    )

    /// Lines reach a log or a pipe as they are printed (stdout is block-buffered off a terminal).
    static func main() {
        ck_line_buffer_stdout()
        main(nil)
    }
}
