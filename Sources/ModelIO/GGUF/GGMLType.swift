/// A ggml tensor element type as stored in a GGUF tensor info (the `ggml_type` ids of ggml.h).
///
/// Every id ggml has defined is listed with its block layout, so a file whose tensors use a type
/// this reader cannot dequantise still opens and is checked; reading such a tensor is an error
/// that names it and its type.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    /// Elements per block (1 for plain types) and bytes per block.
    public let blockSize: Int, blockBytes: Int
    public let name: String

    public init?(rawValue: UInt32) {
        guard let entry = Self.table[rawValue] else { return nil }
        self.rawValue = rawValue
        (name, blockSize, blockBytes) = entry
    }

    public var description: String { name }

    /// Whether `GGMLDequantizer` converts this type to fp32.
    public var isSupported: Bool { GGMLDequantizer.supported.contains(rawValue) }

    /// Bytes of `elements` values (a whole number of blocks), or nil when `elements` is not a
    /// multiple of the block size or the product overflows.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    public static let f32 = GGMLType(rawValue: 0)!
    public static let f16 = GGMLType(rawValue: 1)!
    public static let q4_0 = GGMLType(rawValue: 2)!
    public static let q4_1 = GGMLType(rawValue: 3)!
    public static let q8_0 = GGMLType(rawValue: 8)!
    public static let q4_K = GGMLType(rawValue: 12)!
    public static let q5_K = GGMLType(rawValue: 13)!
    public static let q6_K = GGMLType(rawValue: 14)!
    public static let bf16 = GGMLType(rawValue: 30)!

    /// QK_K: elements per super-block of the k-quants.
    static let qkK = 256

    /// id -> (name, elements per block, bytes per block), as ggml defines them.
    private static let table: [UInt32: (String, Int, Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2),
        2: ("Q4_0", 32, 2 + 16), 3: ("Q4_1", 32, 2 + 2 + 16),
        6: ("Q5_0", 32, 2 + 4 + 16), 7: ("Q5_1", 32, 2 + 2 + 4 + 16),
        8: ("Q8_0", 32, 2 + 32), 9: ("Q8_1", 32, 4 + 4 + 32),
        10: ("Q2_K", qkK, 2 + 2 + qkK / 16 + qkK / 4), 11: ("Q3_K", qkK, 2 + qkK / 4 + qkK / 8 + 12),
        12: ("Q4_K", qkK, 2 + 2 + 12 + qkK / 2), 13: ("Q5_K", qkK, 2 + 2 + 12 + qkK / 8 + qkK / 2),
        14: ("Q6_K", qkK, qkK / 2 + qkK / 4 + qkK / 16 + 2), 15: ("Q8_K", qkK, 4 + qkK + qkK / 8),
        16: ("IQ2_XXS", qkK, 2 + qkK / 4), 17: ("IQ2_XS", qkK, 2 + qkK / 4 + qkK / 32),
        18: ("IQ3_XXS", qkK, 2 + qkK / 4 + qkK / 8), 19: ("IQ1_S", qkK, 2 + qkK / 8 + qkK / 16),
        20: ("IQ4_NL", 32, 2 + 16), 21: ("IQ3_S", qkK, 2 + qkK / 4 + qkK / 8 + qkK / 32 + 4),
        22: ("IQ2_S", qkK, 2 + qkK / 4 + qkK / 16), 23: ("IQ4_XS", qkK, 2 + 2 + qkK / 2 + qkK / 64),
        24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
        29: ("IQ1_M", qkK, qkK / 8 + qkK / 16 + qkK / 32), 30: ("BF16", 1, 2),
        34: ("TQ1_0", qkK, 2 + 4 * 13), 35: ("TQ2_0", qkK, 2 + 64), 39: ("MXFP4", 32, 1 + 16),
    ]
}
