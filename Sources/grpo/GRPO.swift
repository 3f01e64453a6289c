import ArgumentParser
import CKernels
import Foundation
import Training

@main
struct GRPO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Train language models with GRPO on the CPU.",
        subcommands: [Demo.self, Train.self, RecipeCommand.self, Generate.self, Score.self, Eval.self, Sample.self, Report.self, SandboxCommand.self, DataCommand.self, TokenizerCommand.self, ModelCommand.self, Convert.self, Bench.self, Logits.self, Fuzz.self]
    )

    /// Lines reach a log or a pipe as they are printed (stdout is block-buffered off a terminal);
    /// one malloc arena (ck_single_malloc_arena).
    static func main() {
        ck_single_malloc_arena()
        ck_line_buffer_stdout()
        ck_ignore_file_size_signal()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as TrainingError where error.exitStatus != nil {
            // Stopped by SIGINT / SIGTERM with a checkpoint: the status a shell expects (130 / 143).
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(error.exitStatus ?? 1)
        } catch {
            exit(withError: error)
        }
    }
}
