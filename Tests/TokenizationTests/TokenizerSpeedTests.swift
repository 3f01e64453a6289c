import Foundation
import Tokenization
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encoding speed on a few MB of seeded mixed text, printed (no assertions: timings depend on the
/// machine). Runs only when asked:
///
///     TOKENIZATION_BENCH=1 swift test -c release --scratch-path .build-tok --filter TokenizerSpeedTests
final class TokenizerSpeedTests: XCTestCase {
    func testEncodingSpeed() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["TOKENIZATION_BENCH"] == nil, "set TOKENIZATION_BENCH=1 to run")
        let text = Self.mixedText(bytes: 4_000_000, seed: 42)
        let megabytes = Double(text.utf8.count) / 1e6
        print(String(format: "mixed text: %.2f MB, %d characters", megabytes, text.count))
        var tokenizers = try ["gpt2", "llama3", "qwen2", "smollm2"].map { ($0, try TokenizerFixtures.tokenizer($0)) }
        if FileManager.default.fileExists(atPath: TokenizerFixtures.realSmolLM2.path) {
            tokenizers.append(("real smollm2 (49,152 tokens)", try Tokenizer(url: TokenizerFixtures.realSmolLM2)))
        }
        for (name, tokenizer) in tokenizers {
            var cpu: [Double] = []
            var tokens = 0
            for _ in 0..<3 {
                let start = Self.threadCPUTime()
                tokens = try tokenizer.encode(text, addSpecialTokens: false).count
                cpu.append(Self.threadCPUTime() - start)
            }
            // The first run fills the word cache; the median is a warm run.
            print(String(format: "%@: %d tokens, first run %.1f MB/s, median %.1f MB/s (one core, thread CPU time)",
                         name, tokens, megabytes / cpu[0], megabytes / cpu.sorted()[1]))
        }
    }

    /// CPU time of the calling thread in seconds (unaffected by other processes on a busy machine).
    static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func mixedText(bytes: Int, seed: UInt64) -> String { BenchmarkText.mixed(bytes: bytes, seed: seed) }
}
