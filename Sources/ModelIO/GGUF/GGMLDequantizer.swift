import CKernels

/// Converts ggml tensor data to fp32, block by block, with ggml's block layouts and arithmetic
/// (the same products and sums, in the same order, as ggml's reference `dequantize_row_*`).
///
/// Layouts (all little-endian; `d`, `m`, `dmin` are IEEE halves):
/// - Q8_0 (32 values, 34 bytes): d, qs[32] int8. x = qs * d.
/// - Q4_0 (32 values, 18 bytes): d, qs[16]; value j < 16 is the low nibble of qs[j], value 16 + j the
///   high nibble. x = (q - 8) * d.
/// - Q4_1 (32 values, 20 bytes): d, m, qs[16] as Q4_0. x = q * d + m.
/// - Q4_K (256 values, 144 bytes): d, dmin, scales[12] (eight 6-bit scales and mins), qs[128]. Each
///   64 values use 32 bytes of qs: low nibbles for the first 32 (sub-block 2i), high for the next 32
///   (sub-block 2i + 1). x = d * sc * q - dmin * m.
/// - Q5_K (256 values, 176 bytes): d, dmin, scales[12], qh[32], qs[128]: Q4_K plus a fifth bit, bit
///   s of qh[l] for value l of sub-block s.
/// - Q6_K (256 values, 210 bytes): ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, d.
///   Value i uses scale i / 16. x = d * scale * (q - 32).
public enum GGMLDequantizer {
    /// The ids of the types `dequantize` converts.
    static let supported: Set<UInt32> = [0, 1, 30, 8, 2, 3, 12, 13, 14]

    /// Writes `count` fp32 values decoded from `source` to `destination`.
    ///
    /// `count` must be a multiple of the type's block size and `source` must hold
    /// `type.byteCount(elements: count)` bytes (a `GGUFFile` checks both when it opens).
    /// - returns: false, writing nothing, when the type is not supported.
    public static func dequantize(_ type: GGMLType, from source: UnsafeRawPointer,
                                  to destination: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        let blocks = count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16: ck_f16_to_f32(destination, source.assumingMemoryBound(to: UInt16.self), Int64(count))
        case .bf16:
            let bits = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: UInt32.self)
            for i in 0..<count { bits[i] = UInt32(half(bytes + 2 * i)) << 16 }
        case .q8_0: for b in 0..<blocks { q8_0(bytes + b * type.blockBytes, destination + b * 32) }
        case .q4_0: for b in 0..<blocks { q4_0(bytes + b * type.blockBytes, destination + b * 32) }
        case .q4_1: for b in 0..<blocks { q4_1(bytes + b * type.blockBytes, destination + b * 32) }
        case .q4_K: for b in 0..<blocks { q4_K(bytes + b * type.blockBytes, destination + b * 256) }
        case .q5_K: for b in 0..<blocks { q5_K(bytes + b * type.blockBytes, destination + b * 256) }
        case .q6_K: for b in 0..<blocks { q6_K(bytes + b * type.blockBytes, destination + b * 256) }
        default: return false
        }
        return true
    }

    /// The little-endian 16-bit word at `p`.
    @inline(__always) static func half(_ p: UnsafePointer<UInt8>) -> UInt16 {
        UInt16(p[0]) | UInt16(p[1]) << 8
    }

    /// The IEEE half at `p` as fp32 (exact).
    @inline(__always) static func halfFloat(_ p: UnsafePointer<UInt8>) -> Float {
        Float(Float16(bitPattern: half(p)))
    }

    static func q8_0(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: block[2 + j])) * d }
    }

    static func q4_0(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block)
        let qs = block + 2
        for j in 0..<16 {
            y[j] = Float(Int(qs[j] & 0x0F) - 8) * d
            y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
        }
    }

    static func q4_1(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block), m = halfFloat(block + 2)
        let qs = block + 4
        for j in 0..<16 {
            y[j] = Float(qs[j] & 0x0F) * d + m
            y[j + 16] = Float(qs[j] >> 4) * d + m
        }
    }

    /// Scale and min of sub-block `j` (0..<8) from the 12 packed bytes of a Q4_K/Q5_K block:
    /// bytes 0-3 hold scales 0-3 in their low 6 bits, bytes 4-7 mins 0-3; sub-blocks 4-7 take their
    /// low 4 bits from bytes 8-11 and their top 2 bits from the top bits of bytes 0-7.
    @inline(__always) static func scaleMin(_ j: Int, _ s: UnsafePointer<UInt8>) -> (scale: Float, min: Float) {
        if j < 4 { return (Float(s[j] & 63), Float(s[j + 4] & 63)) }
        let scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4)
        let min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4)
        return (Float(scale), Float(min))
    }

    static func q4_K(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block), dmin = halfFloat(block + 2)
        let scales = block + 4, qs = block + 16
        for i in 0..<4 {
            let (sc1, m1) = scaleMin(2 * i, scales), (sc2, m2) = scaleMin(2 * i + 1, scales)
            let (d1, min1, d2, min2) = (d * sc1, dmin * m1, d * sc2, dmin * m2)
            let q = qs + 32 * i, out = y + 64 * i
            for l in 0..<32 {
                out[l] = d1 * Float(q[l] & 0x0F) - min1
                out[l + 32] = d2 * Float(q[l] >> 4) - min2
            }
        }
    }

    static func q5_K(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block), dmin = halfFloat(block + 2)
        let scales = block + 4, qh = block + 16, qs = block + 48
        for i in 0..<4 {
            let (sc1, m1) = scaleMin(2 * i, scales), (sc2, m2) = scaleMin(2 * i + 1, scales)
            let (d1, min1, d2, min2) = (d * sc1, dmin * m1, d * sc2, dmin * m2)
            let (bit1, bit2) = (UInt8(1) << (2 * i), UInt8(1) << (2 * i + 1))
            let q = qs + 32 * i, out = y + 64 * i
            for l in 0..<32 {
                let high1: UInt8 = qh[l] & bit1 != 0 ? 16 : 0, high2: UInt8 = qh[l] & bit2 != 0 ? 16 : 0
                out[l] = d1 * Float((q[l] & 0x0F) + high1) - min1
                out[l + 32] = d2 * Float((q[l] >> 4) + high2) - min2
            }
        }
    }

    static func q6_K(_ block: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) {
        let d = halfFloat(block + 208)
        for n in 0..<2 {
            let ql = block + 64 * n, qh = block + 128 + 32 * n
            let scales = block + 192 + 8 * n
            let out = y + 128 * n
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int((ql[l] & 0x0F) | (qh[l] & 3) << 4) - 32
                let q2 = Int((ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4) - 32
                let q3 = Int((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32
                let q4 = Int((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32
                out[l] = d * Float(Int8(bitPattern: scales[s])) * Float(q1)
                out[l + 32] = d * Float(Int8(bitPattern: scales[s + 2])) * Float(q2)
                out[l + 64] = d * Float(Int8(bitPattern: scales[s + 4])) * Float(q3)
                out[l + 96] = d * Float(Int8(bitPattern: scales[s + 6])) * Float(q4)
            }
        }
    }
}
