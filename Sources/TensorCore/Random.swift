#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded xoshiro256** generator: the same seed gives the same numbers on every run and
/// platform. One generator per purpose (init, sampling, data order); `state` is what a
/// checkpoint stores.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: [UInt64]
    /// A spare standard normal from the last Box-Muller pair, if any (part of the state).
    public private(set) var spareNormal: Double?

    public init(seed: UInt64) {
        var s = seed
        state = (0..<4).map { _ in SeededGenerator.splitMix64(&s) }
        spareNormal = nil
    }

    /// Restores a generator from a saved `state` (four words) and spare normal.
    public init?(state: [UInt64], spareNormal: Double? = nil) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        self.state = state
        self.spareNormal = spareNormal
    }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = SeededGenerator.rotl(state[3], 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform float in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * Float(nextUniform())
    }

    /// A standard normal (Box-Muller; the second value of each pair is kept for the next call).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        let radius = (-2 * log(u1)).squareRoot()
        spareNormal = radius * sin(2 * Double.pi * u2)
        return radius * cos(2 * Double.pi * u2)
    }

    /// A uniform integer in 0..<n (unbiased, by rejection).
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs n > 0, got \(n)")
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// Fills `tensor` with normal values of the given mean and standard deviation.
    public mutating func fillNormal(_ tensor: Tensor, mean: Float = 0, std: Float = 1) {
        for i in 0..<tensor.count { tensor.data[i] = mean + std * Float(nextNormal()) }
    }

    /// Fills `tensor` with uniform values in [lo, hi).
    public mutating func fillUniform(_ tensor: Tensor, _ lo: Float, _ hi: Float) {
        for i in 0..<tensor.count { tensor.data[i] = uniform(lo, hi) }
    }

    /// A tensor of normal values.
    public mutating func normal(_ shape: [Int], std: Float = 1, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        fillNormal(t, std: std)
        return t
    }

    /// A Fisher-Yates shuffle of `array`.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}
