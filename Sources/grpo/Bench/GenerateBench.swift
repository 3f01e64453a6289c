import ArgumentParser
import Foundation
import Training
import Generation
import TensorCore
import Transformer

/// `grpo bench generate`: KV-cache sampling speed at batch 1, 8 and 64 on the tiny preset (random
/// weights) and, given `--model`, on a real model; Scripts/bench_transformers_generate.py measures
/// transformers' generate with the same settings.
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Measure batched KV-cache generation (tokens/s, fraction of the FLOP peak and of the read bandwidth).")

    @OptionGroup var options: BenchOptions
    @Option(help: "Also measure this model (folder or .gguf), e.g. models/SmolLM2-135M-Instruct.Q4_1.gguf.") var model: String?
    @Option(help: "Prompt tokens per row.") var promptTokens = 16
    @Option(help: "New tokens per row.") var newTokens = 64
    // Not `--batches`: BenchOptions already has it (the number of timed runs), and it took the flag.
    @Option(parsing: .upToNextOption, help: "Batch sizes.") var batchSizes: [Int] = [1, 8, 64]

    struct Row: Encodable {
        let model: String
        let batch: Int
        let tokens_per_second: Double
        let seconds: Double
        let gflops: Double
        let peak_ratio: Double
        /// Bytes a decode step must read (every fp32 weight once, each row's KV cache), per second.
        let weight_gbytes_per_second: Double
        let bandwidth_ratio: Double
    }

    func validate() throws {
        guard (1...(1 << 20)).contains(promptTokens), (1...(1 << 20)).contains(newTokens) else {
            throw ValidationError("--prompt-tokens and --new-tokens must be in 1...\(1 << 20), got \(promptTokens) and \(newTokens)")
        }
        guard !batchSizes.isEmpty, batchSizes.allSatisfy({ (1...4096).contains($0) }) else {
            throw ValidationError("--batch-sizes must be in 1...4096, got \(batchSizes)")
        }
    }

    func run() throws {
        var rows: [Row] = []
        let tiny = DecoderModel(config: ModelPreset.tiny.config(vocabSize: 512))
        tiny.initialize(seed: 1)
        var models: [(String, DecoderModel)] = [("tiny", tiny)]
        if let model { models.append((URL(fileURLWithPath: model).lastPathComponent, try ModelBundle.loadModel(model))) }
        for (name, m) in models where promptTokens + newTokens > m.config.maxPositionEmbeddings {
            throw ValidationError("--prompt-tokens \(promptTokens) + --new-tokens \(newTokens) exceed \(name)'s "
                                  + "\(m.config.maxPositionEmbeddings) positions (max_position_embeddings)")
        }
        let peak = MachinePeak.fmaGFLOPS(), bandwidth = MachinePeak.readBandwidthGBs()
        for (name, m) in models {
            for b in batchSizes {
                var rng = SeededGenerator(seed: 7)
                let prompts = (0..<b).map { _ in (0..<promptTokens).map { _ in Int32(3 + rng.nextInt(below: m.config.vocabSize - 3)) } }
                let generator = Generator(model: m) { _ in "" }
                let config = GenerationConfig(maxNewTokens: newTokens, sampling: .init(temperature: 1))
                _ = generator.generate(prompts: prompts, config: .init(maxNewTokens: 4, sampling: .init(temperature: 1)), rng: &rng)
                var times: [Double] = []
                for _ in 0..<options.batches {
                    let start = Clock.now()
                    _ = generator.generate(prompts: prompts, config: config, rng: &rng)
                    times.append(Clock.now() - start)
                }
                let seconds = Clock.median(times)
                let macs = m.config.forwardMACsPerToken(time: promptTokens + newTokens / 2)
                let flops = 2 * Double(m.config.generationMACs(rows: b, promptTokens: promptTokens, newTokens: newTokens))
                // The memory floor of decoding: each step streams every matrix's fp32 weights (matmul
                // MACs per token = their element count) and each row's keys and values so far.
                let kvBytes = 4 * 2 * m.config.layerCount * m.config.kvHeadCount * m.config.headDim * (promptTokens + newTokens / 2)
                let bytes = Double(newTokens) * Double(4 * macs.matmul + b * kvBytes)
                rows.append(Row(model: name, batch: b, tokens_per_second: Double(b * newTokens) / seconds, seconds: seconds,
                                gflops: flops / seconds / 1e9, peak_ratio: flops / seconds / 1e9 / peak,
                                weight_gbytes_per_second: bytes / seconds / 1e9, bandwidth_ratio: bytes / seconds / 1e9 / bandwidth))
            }
        }
        if options.json { return try printJSON(rows) }
        print("\(promptTokens)-token prompts, \(newTokens) new tokens per row, temperature 1 (prefill included); peak \(fixed(peak)) GFLOP/s, "
              + "read bandwidth \(fixed(bandwidth)) GB/s (weights and KV cache streamed once per decode step)")
        for r in rows {
            print("\(padLeft(r.model, 34))  batch \(padLeft(String(r.batch), 3))  \(padLeft(fixed(r.tokens_per_second, 0), 7)) tokens/s  "
                  + "\(padLeft(fixed(r.gflops), 6)) GFLOP/s = \(fixed(r.peak_ratio, 3)) of peak  "
                  + "\(padLeft(fixed(r.weight_gbytes_per_second), 6)) GB/s = \(fixed(r.bandwidth_ratio, 3)) of bandwidth")
        }
    }
}
