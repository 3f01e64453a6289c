import ArgumentParser
import TensorCore

/// `grpo bench ops`: attention, RMSNorm, softmax and token logprob at training shapes, against the
/// measured memory bandwidth (and the FLOP peak for attention, which is compute-bound).
struct OpsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Measure fused ops against the measured memory bandwidth and FLOP peak."
    )

    @OptionGroup var options: BenchOptions

    struct Row: Encodable {
        let op: String
        let shape: String
        let pass: String
        let ms: Double
        /// Effective GB/s: the op's minimal traffic (each input read once, each output written once).
        let gbs: Double
        let bandwidth_ratio: Double
        let gflops: Double?
        let peak_ratio: Double?
    }

    struct Report: Encodable {
        let bandwidth_gbs: Double
        let peak_gflops: Double
        let ops: [Row]
    }

    func run() throws {
        let bandwidth = MachinePeak.bandwidthGBs()
        let peak = MachinePeak.fmaGFLOPS()
        var rows: [Row] = []
        var rng = SeededGenerator(seed: 3)

        /// Times forward alone and forward + backward of an op built on a tape.
        func measure(_ op: String, _ shape: String, inputs: [Tensor], bytes: (fwd: Int, both: Int),
                     flops: (fwd: Double, both: Double)? = nil, _ build: (Tape, [Tensor]) -> [Tensor]) {
            let fwd = Clock.median(batches: options.batches) { _ = build(Tape(recording: false), inputs) }
            let seeds = build(Tape(recording: false), inputs).map { y in (0..<y.count).map { _ in Float(0.01) } }
            let both = Clock.median(batches: options.batches) {
                let tape = Tape()
                tape.backward(build(tape, inputs), seeds: seeds)
            }
            for (pass, seconds, b, f) in [("forward", fwd, bytes.fwd, flops?.fwd), ("forward+backward", both, bytes.both, flops?.both)] {
                let gbs = Double(b) / seconds / 1e9
                let gflops = f.map { $0 / seconds / 1e9 }
                rows.append(Row(op: op, shape: shape, pass: pass, ms: seconds * 1e3, gbs: gbs,
                                bandwidth_ratio: gbs / bandwidth, gflops: gflops, peak_ratio: gflops.map { $0 / peak }))
            }
        }

        // Attention at the tiny preset's training shape: B 8, T 128, H 4, Hkv 2, D 64.
        let (b, t, h, hkv, d) = (8, 128, 4, 2, 64)
        let q = rng.normal([b, t, h, d], requiresGrad: true)
        let k = rng.normal([b, t, hkv, d], requiresGrad: true), v = rng.normal([b, t, hkv, d], requiresGrad: true)
        let gemm = 2.0 * Double(b * h * t * t * d)  // one (T x T x D) product per (batch, head)
        measure("attention", "B8 T128 H4 Hkv2 D64", inputs: [q, k, v],
                bytes: (4 * (q.count * 2 + k.count * 2), 4 * (q.count * 4 + k.count * 4)),
                flops: (2 * gemm, 6 * gemm)) { tape, x in [tape.attention(q: x[0], k: x[1], v: x[2])] }

        for (n, c) in [(1024, 256), (1024, 576)] {
            let x = rng.normal([n, c], requiresGrad: true)
            let w = Tensor(shape: [c], values: [Float](repeating: 1, count: c), requiresGrad: true)
            measure("rmsnorm", "\(n)x\(c)", inputs: [x, w], bytes: (8 * n * c, 20 * n * c)) { tape, v in
                [tape.rmsNorm(v[0], weight: v[1], eps: 1e-6)]
            }
        }
        for (n, c) in [(1024, 512), (64, 32000)] {
            let x = rng.normal([n, c], requiresGrad: true)
            measure("softmax", "\(n)x\(c)", inputs: [x], bytes: (8 * n * c, 20 * n * c)) { tape, v in [tape.softmax(v[0])] }
        }
        for (n, vocab) in [(1024, 512), (256, 49152)] {
            let logits = rng.normal([n, vocab], requiresGrad: true)
            let targets = (0..<n).map { _ in Int32(rng.nextInt(below: vocab)) }
            measure("token_logprob", "\(n)x\(vocab) T=0.7", inputs: [logits], bytes: (4 * n * vocab, 12 * n * vocab)) { tape, v in
                let r = tape.tokenLogprob(logits: v[0], targets: targets, temperature: 0.7)
                return [r.logprob, r.entropy]
            }
        }

        let report = Report(bandwidth_gbs: bandwidth, peak_gflops: peak, ops: rows)
        if options.json { return try printJSON(report) }
        print("memory bandwidth: \(fixed(bandwidth)) GB/s; fp32 FMA peak: \(fixed(peak)) GFLOP/s")
        print("\(padLeft("op", 14)) \(padLeft("shape", 20)) \(padLeft("pass", 17)) \(padLeft("ms", 8)) \(padLeft("GB/s", 7)) \(padLeft("of bw", 6)) \(padLeft("GFLOP/s", 8)) \(padLeft("of peak", 7))")
        for r in rows {
            print("\(padLeft(r.op, 14)) \(padLeft(r.shape, 20)) \(padLeft(r.pass, 17)) \(padLeft(fixed(r.ms, 3), 8)) "
                  + "\(padLeft(fixed(r.gbs), 7)) \(padLeft(fixed(r.bandwidth_ratio, 2), 6)) "
                  + "\(padLeft(r.gflops.map { fixed($0) } ?? "-", 8)) \(padLeft(r.peak_ratio.map { fixed($0, 3) } ?? "-", 7))")
        }
    }
}
