#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Legend: B batch, T time, H heads, D head dim (even), P = D / 2 frequency pairs.

/// Rotary position embedding, Hugging Face's rotate-half convention: for i < P,
/// y_i = x_i cos - x_{i+P} sin and y_{i+P} = x_{i+P} cos + x_i sin, with angle = pos * inv_freq_i and
/// inv_freq_i = 1 / theta^(2i / D), all in fp32 as transformers computes them.
public struct RotaryTable {
    /// (B*T, P) cosines and sines of each position's angles.
    let cos: [Float]
    let sin: [Float]
    public let headDim: Int

    /// positions: (B*T) position ids; theta: rope_theta.
    public init(positions: [Int32], headDim: Int, theta: Float) {
        let half = headDim / 2
        let invFreq = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / Float(pow(Double(theta), Double(exponent)))
        }
        var cosTable = [Float](repeating: 0, count: positions.count * half)
        var sinTable = cosTable
        for (n, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(p) * invFreq[i]
                cosTable[n * half + i] = Float(libmCos(Double(angle)))
                sinTable[n * half + i] = Float(libmSin(Double(angle)))
            }
        }
        cos = cosTable
        sin = sinTable
        self.headDim = headDim
    }

    /// The number of positions (B*T) the table holds.
    public var positionCount: Int { cos.count / max(1, headDim / 2) }
}

@inline(__always) private func libmCos(_ x: Double) -> Double { cos(x) }
@inline(__always) private func libmSin(_ x: Double) -> Double { sin(x) }

enum RoPEKernel {
    /// y (N, H, D) <- x (N, H, D) rotated by the table's angles for each of the N positions.
    /// With `inverse` it applies the transpose (the backward pass): x_i cos + x_{i+P} sin, ...
    static func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, table: RotaryTable,
                      positions n: Int, heads: Int, inverse: Bool, accumulate: Bool) {
        let d = table.headDim, half = d / 2
        table.cos.withUnsafeBufferPointer { cosBuf in
            table.sin.withUnsafeBufferPointer { sinBuf in
                for p in 0..<n {
                    apply(y + p * heads * d, x + p * heads * d, cos: cosBuf.baseAddress! + p * half,
                          sin: sinBuf.baseAddress! + p * half, heads: heads, headDim: d, inverse: inverse, accumulate: accumulate)
                }
            }
        }
    }

    /// y (H, D) <- x (H, D) of one position, rotated by its angles' cos and sin (P each); y may be x.
    @inline(__always)
    static func apply(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, cos c: UnsafePointer<Float>,
                      sin s: UnsafePointer<Float>, heads: Int, headDim d: Int, inverse: Bool, accumulate: Bool) {
        let half = d / 2
        let sign: Float = inverse ? -1 : 1
        for h in 0..<heads {
            let xr = x + h * d, yr = y + h * d
            for i in 0..<half {
                let a = xr[i], b = xr[i + half]
                let lo = a * c[i] - sign * b * s[i]
                let hi = b * c[i] + sign * a * s[i]
                if accumulate { yr[i] += lo; yr[i + half] += hi } else { yr[i] = lo; yr[i + half] = hi }
            }
        }
    }
}

extension Tape {
    /// Rotates x (B, T, H, D) by the positions of `table` (B*T of them).
    public func rope(_ x: Tensor, table: RotaryTable) -> Tensor {
        checkShapes(x.rank == 4 && x.shape[3] == table.headDim && x.shape[3] % 2 == 0, "rope",
                    "x \(x.shape) must be (B, T, H, D) with D = \(table.headDim), even")
        let n = x.shape[0] * x.shape[1], heads = x.shape[2]
        checkShapes(table.cos.count == n * table.headDim / 2, "rope",
                    "table has \(table.cos.count / max(1, table.headDim / 2)) positions, x \(x.shape) needs \(n)")
        let y = output(x.shape, [x])
        RoPEKernel.apply(y.data, x.data, table: table, positions: n, heads: heads, inverse: false, accumulate: false)
        let dx = x.gradientIfRequired  // the backward needs x's gradient, not its values
        record(y) { dy in
            if let dx {
                RoPEKernel.apply(dx.ensure().pointer, dy.pointer, table: table, positions: n, heads: heads,
                                 inverse: true, accumulate: true)
            }
        }
        return y
    }
}
