import ArgumentParser
import Foundation

/// `grpo bench ...`: speed figures as ratios to the machine's measured peak.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed against the machine's measured FLOP peak and memory bandwidth.",
        subcommands: [GEMMBench.self, OpsBench.self, ForwardBench.self, GenerateBench.self, GRPOStepBench.self, PPOStepBench.self, PPOvsGRPOBench.self, SandboxBench.self, TokenizerBench.self]
    )
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(help: "Median over this many timed batches.")
    var batches = 5

    func validate() throws {
        guard batches >= 1 else { throw ValidationError("--batches must be >= 1, got \(batches)") }
    }
}

/// Prints a JSON-encodable value as one line.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Formats a number with fixed decimals.
func fixed(_ x: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", x) }

/// Pads a string on the left to `width` characters.
func padLeft(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
