import CKernels

/// Vector kernels for exp and max, dispatched to AVX2+FMA where the CPU has it.
public enum FastMath {
    /// y[i] = exp(scale * x[i] - shift); returns the sum of the y (accumulated in fp64). y may alias x.
    @inline(__always)
    public static func expSum(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                              scale: Float = 1, shift: Float, count: Int) -> Double {
        ck_exp_sum(y, x, scale, shift, Int64(count), nil)
    }

    /// As `expSum`, also returning sum_i y[i] * t[i] with t[i] = scale * x[i] - shift (for entropies).
    @inline(__always)
    public static func expSumWeighted(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                      scale: Float = 1, shift: Float, count: Int) -> (sum: Double, weighted: Double) {
        var weighted = 0.0
        let sum = ck_exp_sum(y, x, scale, shift, Int64(count), &weighted)
        return (sum, weighted)
    }

    /// max(x[0..<count]); count >= 1.
    @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        ck_max(x, Int64(count))
    }

    /// Runs `body` with the portable C kernels instead of the vector ones (for tests).
    public static func withPortableKernels<T>(_ body: () throws -> T) rethrows -> T {
        let level = ck_isa_level()
        ck_set_isa_level(1)
        defer { ck_set_isa_level(level) }
        return try body()
    }

    /// The instruction set the C kernels use: "avx2" or "portable".
    public static var isa: String { ck_isa_level() == 2 ? "avx2" : "portable" }
}
