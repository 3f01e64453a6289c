import CKernels

/// Vector kernels for exp and max, dispatched to AVX-512 where the CPU has it.
public enum FastMath {
    /// y[i] = exp(scale * x[i] - shift); returns the sum of the y (accumulated in fp64). y may alias x.
    @inline(__always)
    public static func expSum(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                              scale: Float = 1, shift: Float, count: Int) -> Double {
        ck_exp_sum(y, x, scale, shift, Int64(count))
    }

    /// max(x[0..<count]); count >= 1.
    @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        ck_max(x, Int64(count))
    }

    /// The instruction set the C kernels use: "avx512", "avx2" or "portable".
    public static var isa: String {
        switch ck_isa_level() {
        case 3: return "avx512"
        case 2: return "avx2"
        default: return "portable"
        }
    }
}
