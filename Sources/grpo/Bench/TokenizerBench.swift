import ArgumentParser
import Foundation
import Training
import TensorCore
import Tokenization

/// `grpo bench tokenizer`: encoding speed on a few MB of seeded mixed text, one core.
struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Measure tokenizer encoding speed (MB/s, one core) on seeded mixed text.")

    @OptionGroup var options: BenchOptions
    @Option(help: "A tokenizer.json, a model folder or a .gguf file.") var tokenizer: String
    @Option(help: "Megabytes of text.") var megabytes = 4

    func validate() throws {
        guard (1...1024).contains(megabytes) else { throw ValidationError("--megabytes must be in 1...1024, got \(megabytes)") }
    }

    struct Report: Encodable {
        let megabytes: Double
        let tokens: Int
        let first_pass_mb_per_second: Double
        let mb_per_second: Double
    }

    func run() throws {
        let tok = ModelBundle.isGGUF(tokenizer) ? try ModelBundle.loadTokenizer(tokenizer) : try Tokenizer(url: URL(fileURLWithPath: tokenizer))
        let text = BenchmarkText.mixed(bytes: megabytes << 20, seed: 1)
        let mb = Double(text.utf8.count) / 1_048_576
        var passes: [Double] = []
        var tokens = 0
        for _ in 0..<max(options.batches, 2) {
            let start = Clock.now()
            tokens = try tok.encode(text, addSpecialTokens: false).count
            passes.append(Clock.now() - start)
        }
        let rest = passes.dropFirst().sorted()
        let report = Report(megabytes: mb, tokens: tokens, first_pass_mb_per_second: mb / passes[0],
                            mb_per_second: mb / rest[rest.count / 2])
        if options.json { return try printJSON(report) }
        print(String(format: "%.1f MB -> %d tokens: %.1f MB/s (median of %d passes; first pass, cold word cache: %.1f MB/s)",
                     mb, tokens, report.mb_per_second, rest.count, report.first_pass_mb_per_second))
    }
}
