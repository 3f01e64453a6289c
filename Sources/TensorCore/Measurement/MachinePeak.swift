import CKernels

/// The machine's measured limits: fp32 FMA peak and streaming memory bandwidth, on all cores of
/// the shared pool. Benchmarks report their figures as ratios to these.
public enum MachinePeak {
    /// fp32 GFLOP/s of a register-resident FMA loop running on every pool thread at once
    /// (the best of `trials`, each `iterations` rounds of 12 8-lane FMAs per thread: 50M take about 0.1 s).
    public static func fmaGFLOPS(pool: ThreadPool = .shared, trials: Int = 5, iterations: Int64 = 50_000_000) -> Double {
        var best = 0.0
        let sinks = Storage(count: pool.threadCount * 16)
        let flops = UnsafeMutablePointer<Double>.allocate(capacity: pool.threadCount)
        defer { flops.deallocate() }
        for _ in 0..<trials {
            let start = Clock.now()
            pool.run(tasks: pool.threadCount) { t in
                flops[t] = ck_peak_fma(iterations, sinks.pointer + t * 16)
            }
            let seconds = Clock.now() - start
            let total = (0..<pool.threadCount).reduce(0.0) { $0 + flops[$1] }
            best = max(best, total / seconds / 1e9)
        }
        return best
    }

    /// Read bandwidth in GB/s: summing a buffer far larger than the caches, split across the pool, with
    /// four 16-lane accumulators per thread: what streaming frozen weights once per decoded token is
    /// bounded by (no writes). The best of `trials`.
    public static func readBandwidthGBs(pool: ThreadPool = .shared, megabytes: Int = 512, trials: Int = 5) -> Double {
        let n = megabytes * 1024 * 1024 / 4 / 64 * 64
        let x = Storage(count: n)
        for i in 0..<n { x.pointer[i] = Float(i & 1023) }
        let sums = Storage(count: pool.threadCount)  // where each thread's sum goes, so the loads are not optimised away
        var best = 0.0
        for _ in 0..<trials {
            let start = Clock.now()
            pool.run(tasks: pool.threadCount) { t in
                let chunks = n / 64, lo = chunks * t / pool.threadCount * 64, hi = chunks * (t + 1) / pool.threadCount * 64
                let base = UnsafeRawPointer(x.pointer)
                var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
                var i = lo
                while i < hi {
                    a += base.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                    b += base.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self)
                    c += base.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self)
                    d += base.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self)
                    i += 64
                }
                sums.pointer[t] = (a + b + c + d).sum()
            }
            let seconds = Clock.now() - start
            best = max(best, Double(n * 4) / seconds / 1e9)
        }
        return best
    }

    /// Streaming bandwidth in GB/s: y = x + y over buffers far larger than the caches, split across
    /// the pool (bytes counted: two reads and one write per element). The best of `trials`.
    public static func bandwidthGBs(pool: ThreadPool = .shared, megabytes: Int = 256, trials: Int = 5) -> Double {
        let n = megabytes * 1024 * 1024 / 4 / 2
        let x = Storage(count: n), y = Storage(count: n)
        for i in 0..<n { x.pointer[i] = Float(i & 1023) }
        var best = 0.0
        for _ in 0..<trials {
            let start = Clock.now()
            pool.run(tasks: pool.threadCount) { t in
                let lo = n * t / pool.threadCount, hi = n * (t + 1) / pool.threadCount
                let xp = x.pointer, yp = y.pointer
                for i in lo..<hi { yp[i] += xp[i] }
            }
            let seconds = Clock.now() - start
            best = max(best, Double(3 * n * 4) / seconds / 1e9)
        }
        return best
    }
}
