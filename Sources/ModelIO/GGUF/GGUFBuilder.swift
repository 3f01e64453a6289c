import Foundation

/// Writes GGUF bytes (F32 tensors) for tests and fuzzing seeds, with knobs to produce the corruptions a
/// reader must reject.
public struct GGUFBuilder {
    struct TensorEntry {
        var name: String
        /// ggml's ne, fastest-varying first.
        var dims: [UInt64]
        var type: UInt32
        var data: [UInt8]
        /// An explicit data offset instead of the next aligned one.
        var offset: UInt64?
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = []
    var tensors: [TensorEntry] = []
    var alignment = 32
    var tensorCount: UInt64?, metadataCount: UInt64?

    public init(architecture: String? = nil) {
        if let architecture { metadata.append(("general.architecture", .string(architecture))) }
    }

    public mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    /// An F32 tensor given in Hugging Face (row-major, slowest-first) shape.
    public mutating func addF32(_ name: String, shape: [Int], values: [Float]) {
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        tensors.append(TensorEntry(name: name, dims: shape.reversed().map(UInt64.init), type: 0, data: bytes))
    }

    static func append<T: FixedWidthInteger>(_ x: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
    }

    static func append(string: String, to out: inout [UInt8]) {
        append(UInt64(string.utf8.count), to: &out)
        out.append(contentsOf: Array(string.utf8))
    }

    static func append(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): append(UInt8(v ? 1 : 0), to: &out)
        case .string(let s): append(string: s, to: &out)
        case .array(let type, let values):
            append(type.rawValue, to: &out)
            append(UInt64(values.count), to: &out)
            for v in values { append(v, to: &out) }
        }
    }

    public func bytes() -> [UInt8] {
        var out = magic
        Self.append(version, to: &out)
        Self.append(tensorCount ?? UInt64(tensors.count), to: &out)
        Self.append(metadataCount ?? UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            Self.append(string: key, to: &out)
            Self.append(value.type.rawValue, to: &out)
            Self.append(value, to: &out)
        }
        var offsets: [UInt64] = [], next: UInt64 = 0
        for t in tensors {
            offsets.append(t.offset ?? next)
            next = ((offsets.last ?? 0) + UInt64(t.data.count) + UInt64(alignment) - 1) / UInt64(alignment) * UInt64(alignment)
        }
        for (t, offset) in zip(tensors, offsets) {
            Self.append(string: t.name, to: &out)
            Self.append(UInt32(t.dims.count), to: &out)
            for d in t.dims { Self.append(d, to: &out) }
            Self.append(t.type, to: &out)
            Self.append(offset, to: &out)
        }
        while out.count % alignment != 0 { out.append(0) }
        let dataStart = out.count
        // Data at an offset far past the end (a corruption under test) is not written.
        for (t, offset) in zip(tensors, offsets) where offset < 1 << 20 {
            let at = dataStart + Int(offset)
            if out.count < at + t.data.count { out.append(contentsOf: [UInt8](repeating: 0, count: at + t.data.count - out.count)) }
            out.replaceSubrange(at..<(at + t.data.count), with: t.data)
        }
        return out
    }

    /// Writes the bytes to `url` and returns it.
    @discardableResult
    func write(to url: URL) throws -> URL {
        try Data(bytes()).write(to: url)
        return url
    }
}
