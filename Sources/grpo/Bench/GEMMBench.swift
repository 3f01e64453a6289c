import ArgumentParser
import TensorCore

extension GEMM.Kernel: ExpressibleByArgument {}

/// `grpo bench gemm`: the fp32 FMA peak of all cores, and GEMM GFLOP/s on LLM shapes.
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Measure the fp32 FMA peak and the GEMM rate on LLM-shaped products."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "The kernel: packed (ours, AVX2+FMA), blas (BLAS per pool thread) or blas-threads (BLAS threading itself); default: the engine's choice here.")
    var kernel: GEMM.Kernel = .best

    /// One product C (M, N) = op(A) op(B) with inner size K.
    struct Case {
        let name: String
        let m: Int, k: Int, n: Int
        let transA: Bool, transB: Bool
    }

    /// The forward products first, in the order of the issue, then each one's backward
    /// transposes: dA = dC B^T ((M x N)(N x K)) and dB = A^T dC ((K x M)(M x N)).
    static let cases: [Case] = {
        let forward = [(512, 256, 1024), (64, 512, 32000), (2048, 256, 768)]
        var cases = forward.map { m, k, n in Case(name: "(\(m)x\(k))x(\(k)x\(n))", m: m, k: k, n: n, transA: false, transB: false) }
        for (m, k, n) in forward {
            cases.append(Case(name: "(\(m)x\(n))x(\(n)x\(k))^T", m: m, k: n, n: k, transA: false, transB: true))
            cases.append(Case(name: "(\(k)x\(m))^Tx(\(m)x\(n))", m: k, k: m, n: n, transA: true, transB: false))
        }
        return cases
    }()

    struct Row: Encodable {
        let shape: String
        let gflops: Double
        let ratio: Double
    }

    struct Report: Encodable {
        let peak_gflops: Double
        let threads: Int
        let isa: String
        let kernel: String
        let gemm: [Row]
    }

    func run() throws {
        // This machine's speed drifts by 10-30% over seconds (other guests on the host), so each
        // product's rate is paired with a peak measured around it: `--batches` pairs of (the best
        // of 2 peak trials of about 20 ms right before the product and 2 right after it, the
        // product timed for at least 50 ms), and the medians of the rates and of the per-pair
        // ratios are reported. Trials on both sides keep one slow moment before the product from
        // passing for the machine's peak. peak_gflops is the median of the pairs' peaks.
        var rows: [Row] = []
        var peaks: [Double] = []
        var rng = SeededGenerator(seed: 1)
        for c in Self.cases {
            let a = rng.normal([c.m * c.k]), b = rng.normal([c.k * c.n]), out = Tensor(zeros: [c.m * c.n])
            var rates: [Double] = [], ratios: [Double] = []
            for _ in 0..<options.batches {
                let before = MachinePeak.fmaGFLOPS(trials: 2, iterations: 10_000_000)
                let seconds = Clock.median(batches: 1) {
                    GEMM.sgemm(transA: c.transA, transB: c.transB, m: c.m, n: c.n, k: c.k,
                               a: a.data, lda: c.transA ? c.m : c.k, b: b.data, ldb: c.transB ? c.k : c.n,
                               c: out.data, ldc: c.n, kernel: kernel)
                }
                let peak = max(before, MachinePeak.fmaGFLOPS(trials: 2, iterations: 10_000_000))
                let gflops = 2.0 * Double(c.m * c.n * c.k) / seconds / 1e9
                peaks.append(peak)
                rates.append(gflops)
                ratios.append(gflops / peak)
            }
            rows.append(Row(shape: c.name, gflops: Clock.median(rates), ratio: Clock.median(ratios)))
        }
        let peak = Clock.median(peaks)
        let report = Report(peak_gflops: peak, threads: ThreadPool.shared.threadCount, isa: FastMath.isa, kernel: kernel.rawValue, gemm: rows)
        if options.json { return try printJSON(report) }
        print("fp32 FMA peak: \(fixed(peak)) GFLOP/s on \(report.threads) threads (\(report.isa)); GEMM kernel: \(kernel.rawValue)")
        print("\(padLeft("product", 30))  \(padLeft("GFLOP/s", 8))  \(padLeft("of peak", 7))")
        for row in rows {
            print("\(padLeft(row.shape, 30))  \(padLeft(fixed(row.gflops), 8))  \(padLeft(fixed(row.ratio, 3), 7))")
        }
    }
}
