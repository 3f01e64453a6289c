#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time and resource figures for benchmarks and training logs.
public enum Clock {
    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Peak resident set size of this process so far, in bytes.
    public static func peakRSS() -> Int {
        var usage = rusage()
        #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #endif
    }

    /// The middle of `values` (the upper one of an even count); 0 when there are none.
    public static func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }

    /// Runs `body` repeatedly in batches lasting at least `minSeconds` each and returns the median
    /// seconds per call over `batches` batches (after one warm-up call).
    public static func median(batches: Int = 5, minSeconds: Double = 0.05, _ body: () -> Void) -> Double {
        body()
        var perCall: [Double] = []
        for _ in 0..<batches {
            var calls = 0
            let start = now()
            var elapsed = 0.0
            repeat {
                body()
                calls += 1
                elapsed = now() - start
            } while elapsed < minSeconds
            perCall.append(elapsed / Double(calls))
        }
        perCall.sort()
        return perCall[perCall.count / 2]
    }
}
