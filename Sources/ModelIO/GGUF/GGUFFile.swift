import Foundation
import TensorCore

/// One tensor's entry in a GGUF file.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// ggml's `ne`, fastest-varying first: a Hugging Face (out, in) matrix has dims [in, out].
    public let dims: [Int]
    public let type: GGMLType
    /// Byte offset inside the data section (a multiple of the file's alignment).
    public let offset: Int
    public let byteCount: Int

    /// The row-major shape, slowest-varying first (Hugging Face order): `dims` reversed.
    public var shape: [Int] { dims.reversed() }
    public var elementCount: Int { dims.reduce(1, *) }
}

/// A memory-mapped GGUF file (versions 2 and 3): the "GGUF" magic, a u32 version, u64 tensor and
/// metadata counts, the metadata (key, u32 type, value), the tensor infos (name, u32 n_dims, u64
/// dims fastest-first, u32 ggml type, u64 offset), padding to `general.alignment` (default 32),
/// then the tensor data.
///
/// Everything is checked when the file opens (counts against the file size, string and array
/// lengths, value and tensor types, dimension products, offsets aligned and inside the data), so a
/// corrupt or truncated file gives a `ModelIOError` naming the problem, never a crash. Tensors are
/// dequantised to fp32 when read (see `GGMLDequantizer` for the types).
public final class GGUFFile {
    /// The smallest header: magic, version, tensor count, metadata count.
    static let headerBytes = 4 + 4 + 8 + 8
    /// The least bytes a metadata entry (empty key, type, 1-byte value) and a tensor info (empty
    /// name, n_dims, type, offset) take, to reject impossible counts before reading them.
    static let minimumEntryBytes = 8 + 4 + 1, minimumTensorInfoBytes = 8 + 4 + 4 + 8
    static let maxDims = 4
    public static let defaultAlignment = 32

    public let url: URL
    public let version: Int
    /// Metadata keys in file order, and their values.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute byte offset of the data section.
    public let dataOffset: Int
    private let byName: [String: Int]
    private let mapped: MappedFile

    public init(url: URL) throws {
        self.url = url
        let path = url.path
        mapped = try MappedFile(url: url, minimumSize: Self.headerBytes, format: "GGUF")
        let size = mapped.size
        var cursor = GGUFCursor(base: mapped.base, size: size, file: path)
        version = try Self.readHeaderVersion(&cursor)
        let tensorCount = try cursor.count("tensor count")
        let keyCount = try cursor.count("metadata count")
        guard tensorCount <= cursor.remaining / Self.minimumTensorInfoBytes,
              keyCount <= cursor.remaining / Self.minimumEntryBytes,
              tensorCount * Self.minimumTensorInfoBytes + keyCount * Self.minimumEntryBytes <= cursor.remaining else {
            throw ModelIOError.corrupt(file: path, reason: "header claims \(tensorCount) tensors and \(keyCount) metadata entries, more than the \(size)-byte file can hold")
        }
        (metadataKeys, metadata) = try Self.readMetadata(&cursor, count: keyCount)
        alignment = try Self.alignment(metadata, file: path)
        let infos = try Self.readTensorInfos(&cursor, count: tensorCount, alignment: alignment)
        // The data section starts at the next multiple of the alignment (cursor.offset <= size,
        // so this cannot overflow).
        dataOffset = (cursor.offset + alignment - 1) / alignment * alignment
        let dataBytes = size - dataOffset
        for info in infos where dataBytes < 0 || info.offset > dataBytes || info.byteCount > dataBytes - info.offset {
            throw ModelIOError.corrupt(file: path, reason: "tensor '\(info.name)' data [\(info.offset), \(info.offset + info.byteCount)) runs past the end of the \(max(dataBytes, 0)) data bytes (truncated file?)")
        }
        tensors = infos
        byName = Dictionary(infos.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func readHeaderVersion(_ cursor: inout GGUFCursor) throws -> Int {
        let magic = try cursor.take(4, "magic")
        let bytes = (0..<4).map { magic.load(fromByteOffset: $0, as: UInt8.self) }
        guard bytes == Array("GGUF".utf8) else {
            let shown = bytes.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            throw cursor.corrupt("bad magic '\(shown)', expected 'GGUF' (not a GGUF file)")
        }
        let version = try cursor.scalar(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            let swapped = version.byteSwapped
            let detail = (1...3).contains(swapped) ? " (a big-endian file, version \(swapped))" : ""
            throw ModelIOError.unsupported(file: cursor.file, field: "GGUF version", value: "\(version)\(detail); supported: 2, 3 (little-endian)")
        }
        return Int(version)
    }

    private static func readMetadata(_ cursor: inout GGUFCursor, count: Int) throws -> ([String], [String: GGUFValue]) {
        var keys: [String] = [], values: [String: GGUFValue] = [:]
        keys.reserveCapacity(count)
        for i in 0..<count {
            let key = try cursor.string("key of metadata entry \(i)")
            let type = try cursor.valueType("metadata '\(key)'")
            let value = try cursor.value(type, "metadata '\(key)'")
            guard values.updateValue(value, forKey: key) == nil else { throw cursor.corrupt("duplicate metadata key '\(key)'") }
            keys.append(key)
        }
        return (keys, values)
    }

    private static func alignment(_ metadata: [String: GGUFValue], file: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let a = value.int, a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
            throw ModelIOError.corrupt(file: file, reason: "general.alignment is \(value.summary), expected a power of two")
        }
        return a
    }

    private static func readTensorInfos(_ cursor: inout GGUFCursor, count: Int, alignment: Int) throws -> [GGUFTensorInfo] {
        var infos: [GGUFTensorInfo] = [], seen = Set<String>()
        infos.reserveCapacity(count)
        for i in 0..<count {
            let name = try cursor.string("name of tensor \(i)")
            guard seen.insert(name).inserted else { throw cursor.corrupt("duplicate tensor name '\(name)'") }
            let rank = try cursor.scalar(UInt32.self, "n_dims of tensor '\(name)'")
            guard rank <= maxDims else { throw cursor.corrupt("tensor '\(name)' has \(rank) dimensions, at most \(maxDims) allowed") }
            var dims: [Int] = []
            for d in 0..<Int(rank) {
                let raw = try cursor.scalar(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard let dim = Int(exactly: raw) else { throw cursor.corrupt("tensor '\(name)' dimension \(d) is \(raw), too large") }
                dims.append(dim)
            }
            let rawType = try cursor.scalar(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: rawType) else {
                throw ModelIOError.badTensor(file: cursor.file, tensor: name, reason: "unknown ggml type id \(rawType)")
            }
            let offsetRaw = try cursor.scalar(UInt64.self, "data offset of tensor '\(name)'")
            guard let offset = Int(exactly: offsetRaw), offset % alignment == 0 else {
                throw cursor.corrupt("tensor '\(name)' data offset \(offsetRaw) is not a multiple of the alignment \(alignment)")
            }
            let (elements, overflow) = dims.reduce((1, false)) { acc, d in
                let r = acc.0.multipliedReportingOverflow(by: d)
                return (r.partialValue, acc.1 || r.overflow)
            }
            guard !overflow else { throw cursor.corrupt("tensor '\(name)' dimensions \(dims) overflow the element count") }
            guard (dims.first ?? 1) % type.blockSize == 0, let bytes = type.byteCount(elements: elements) else {
                throw ModelIOError.badTensor(file: cursor.file, tensor: name,
                                             reason: "rows of \(dims.first ?? 1) values are not whole \(type) blocks of \(type.blockSize)")
            }
            infos.append(GGUFTensorInfo(name: name, dims: dims, type: type, offset: offset, byteCount: bytes))
        }
        return infos
    }

    /// The tensor names, in file order.
    public var names: [String] { tensors.map(\.name) }

    public func info(_ name: String) -> GGUFTensorInfo? { byName[name].map { tensors[$0] } }

    /// Dequantises a tensor to fp32 into `destination` (which holds its element count), in
    /// row-major `shape` order.
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        guard let info = info(name) else { throw ModelIOError.missingTensor(file: url.path, tensor: name) }
        let source = mapped.base + dataOffset + info.offset
        guard GGMLDequantizer.dequantize(info.type, from: source, to: destination, count: info.elementCount) else {
            let supported = GGMLDequantizer.supported.sorted().compactMap { GGMLType(rawValue: $0)?.name }
            throw ModelIOError.badTensor(file: url.path, tensor: name,
                                         reason: "type \(info.type) cannot be read; supported: \(supported.joined(separator: ", "))")
        }
    }

    /// A tensor dequantised to fp32, with the row-major (Hugging Face order) shape.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw ModelIOError.missingTensor(file: url.path, tensor: name) }
        let t = Tensor(zeros: info.shape, name: name)
        try read(name, into: t.data)
        return t
    }
}
