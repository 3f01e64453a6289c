import ArgumentParser
import TensorCore
import Training
import Transformer

/// `grpo bench forward`: training forward + backward tokens/s on a preset model, and the achieved
/// FLOP rate as a fraction of the measured FMA peak.
struct ForwardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Measure training forward+backward speed on a preset model against the FLOP peak."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Model preset: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: String = "tiny"
    @Option(help: "Vocabulary size.") var vocab = 512
    @Option(help: "Rows per batch.") var batch = 8
    @Option(help: "Tokens per row.") var time = 128
    @Option(help: "Measure this model (a Hugging Face folder or a .gguf file) instead of a preset.") var model: String?
    @Flag(help: "Activation checkpointing (gradient_checkpointing: true) in forward+backward; peak RSS is per process, so compare two runs.")
    var gradientCheckpointing = false

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else { throw ValidationError("unknown --preset '\(preset)'") }
        guard vocab > 1, batch > 0, time > 1 else { throw ValidationError("--vocab, --batch and --time must be positive") }
        guard vocab <= 1 << 20, batch <= 1 << 20, time <= 1 << 20, batch * time <= 1 << 20 else {
            throw ValidationError("--vocab must be <= \(1 << 20) and --batch x --time <= \(1 << 20) tokens, got \(vocab) and \(batch) x \(time)")
        }
    }

    struct Report: Encodable {
        let preset: String
        let parameters: Int
        let batch: Int
        let time: Int
        let forward_ms: Double
        let forward_backward_ms: Double
        let tokens_per_second: Double
        let gflops: Double
        let peak_gflops: Double
        let peak_ratio: Double
        let gradient_checkpointing: Bool
        let peak_rss_mb: Double
    }

    func run() throws {
        let model = try self.model.map(ModelBundle.loadModel) ?? {
            let random = DecoderModel(config: ModelPreset(rawValue: preset)!.config(vocabSize: self.vocab))
            random.initialize(seed: 1)
            return random
        }()
        guard time <= model.config.maxPositionEmbeddings else {
            throw ValidationError("--time \(time) exceeds the model's \(model.config.maxPositionEmbeddings) positions (max_position_embeddings)")
        }
        model.gradientCheckpointing = gradientCheckpointing
        let (config, vocab) = (model.config, model.config.vocabSize)
        var rng = SeededGenerator(seed: 2)
        let ids = (0..<(batch * time)).map { _ in Int32(rng.nextInt(below: vocab)) }
        let targets = ids.indices.map { $0 % time == time - 1 ? Int32(-100) : ids[$0 + 1] }
        let input = DecoderModel.Batch(ids: ids, attentionMask: [Int32](repeating: 1, count: ids.count), batch: batch, time: time)
        let peak = MachinePeak.fmaGFLOPS()
        let forward = Clock.median(batches: options.batches, minSeconds: 0.3) {
            let tape = Tape(recording: false)
            _ = tape.crossEntropy(logits: model.logits(tape, input), targets: targets)
        }
        let both = Clock.median(batches: options.batches, minSeconds: 0.5) {
            let tape = Tape()
            model.parameters.zeroGrad()
            tape.backward(tape.crossEntropy(logits: model.logits(tape, input), targets: targets))
        }
        // Backward does two products per forward product: 3x the forward's 2 FLOPs per MAC.
        let macs = config.forwardMACsPerToken(time: time)
        let flops = 6.0 * Double((macs.matmul + macs.attention) * batch * time)
        let gflops = flops / both / 1e9
        let report = Report(preset: self.model ?? preset, parameters: config.parameterCount, batch: batch, time: time,
                            forward_ms: forward * 1e3, forward_backward_ms: both * 1e3,
                            tokens_per_second: Double(batch * time) / both, gflops: gflops,
                            peak_gflops: peak, peak_ratio: gflops / peak, gradient_checkpointing: gradientCheckpointing,
                            peak_rss_mb: Double(Clock.peakRSS()) / 1_048_576)
        if options.json { return try printJSON(report) }
        print("\(self.model ?? preset + " preset"), \(report.parameters) parameters, batch \(batch) x \(time) tokens"
              + (gradientCheckpointing ? ", gradient checkpointing" : ""))
        print("forward \(fixed(report.forward_ms)) ms; forward+backward \(fixed(report.forward_backward_ms)) ms; peak RSS \(fixed(report.peak_rss_mb, 0)) MB")
        print("\(fixed(report.tokens_per_second, 0)) tokens/s; \(fixed(gflops)) GFLOP/s = \(fixed(report.peak_ratio, 3)) of the \(fixed(peak)) GFLOP/s peak")
    }
}
