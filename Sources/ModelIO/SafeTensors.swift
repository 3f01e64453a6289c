import CKernels
import Foundation
import TensorCore

/// A memory-mapped .safetensors file: an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then the data.
///
/// The header is validated when the file opens (bounds, offsets inside the data, known dtypes,
/// shape x dtype size = byte length); tensors are converted to fp32 when read.
public final class SafeTensorsFile {
    public struct Info: Equatable, Sendable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Byte range inside the data section.
        public let begin: Int, end: Int
    }

    /// Byte sizes of the dtypes the format defines (only F32, F16 and BF16 can be read as fp32).
    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "U16": 2,
        "U32": 4, "U64": 8, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    ]
    static let maxHeaderBytes = 100 * 1024 * 1024

    public let url: URL
    /// Tensors in file order (by data offset).
    public let infos: [Info]
    public let metadata: [String: String]
    private let byName: [String: Int]
    private let base: UnsafeMutableRawPointer
    private let length: Int
    private let dataStart: Int

    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelIOError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelIOError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        let size = Int(st.st_size)
        guard size >= 8 else { throw ModelIOError.corrupt(file: path, reason: "file has \(size) bytes, less than the 8-byte header length") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw ModelIOError.unreadable(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = mapped
        length = size
        do {
            let headerLength = Int(truncatingIfNeeded: UInt64(littleEndian: mapped.loadUnaligned(as: UInt64.self)))
            guard headerLength >= 2, headerLength <= Self.maxHeaderBytes, headerLength <= size - 8 else {
                throw ModelIOError.corrupt(file: path, reason: "header length \(headerLength) does not fit a file of \(size) bytes")
            }
            dataStart = 8 + headerLength
            let header = Data(bytes: mapped + 8, count: headerLength)
            (infos, metadata) = try Self.parseHeader(header, dataLength: size - dataStart, file: path)
            byName = Dictionary(uniqueKeysWithValues: infos.enumerated().map { ($1.name, $0) })
        } catch {
            munmap(mapped, size)
            throw error
        }
    }

    deinit { munmap(base, length) }

    private static func parseHeader(_ header: Data, dataLength: Int, file: String) throws -> ([Info], [String: String]) {
        guard let object = try? JSONSerialization.jsonObject(with: header), let root = object as? [String: Any] else {
            throw ModelIOError.corrupt(file: file, reason: "header is not a JSON object")
        }
        var infos: [Info] = []
        var metadata: [String: String] = [:]
        for (name, value) in root {
            if name == "__metadata__" {
                metadata = (value as? [String: Any])?.compactMapValues { $0 as? String } ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [NSNumber])?.map({ $0.intValue }),
                  let offsets = (entry["data_offsets"] as? [NSNumber])?.map({ $0.intValue }), offsets.count == 2 else {
                throw ModelIOError.badTensor(file: file, tensor: name, reason: "entry needs dtype, shape and data_offsets [begin, end]")
            }
            guard let itemSize = dtypeSizes[dtype] else { throw ModelIOError.unsupportedDType(file: file, tensor: name, dtype: dtype) }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw ModelIOError.badTensor(file: file, tensor: name, reason: "negative dimension in shape \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw ModelIOError.corrupt(file: file, reason: "tensor '\(name)' data_offsets [\(begin), \(end)] outside the \(dataLength) data bytes")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let r = acc.0.multipliedReportingOverflow(by: d)
                return (r.partialValue, acc.1 || r.overflow)
            }
            guard !overflow, count * itemSize == end - begin else {
                throw ModelIOError.badTensor(file: file, tensor: name,
                                             reason: "shape \(shape) x \(dtype) needs \(overflow ? -1 : count * itemSize) bytes, data_offsets give \(end - begin)")
            }
            infos.append(Info(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        infos.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        if let duplicate = duplicateKey(header, distinctKeys: root.count) {
            throw ModelIOError.corrupt(file: file, reason: "header names \(duplicate) more than once")
        }
        // Each tensor owns its bytes: a later one starting inside an earlier one's range would
        // make writing one tensor change another. Empty tensors own no bytes.
        var previous: Info?
        for info in infos where info.end > info.begin {
            if let p = previous, info.begin < p.end {
                throw ModelIOError.corrupt(file: file, reason: "tensor '\(info.name)' data_offsets [\(info.begin), \(info.end)] "
                                               + "overlap tensor '\(p.name)' [\(p.begin), \(p.end)]")
            }
            previous = info
        }
        return (infos, metadata)
    }

    /// A top-level key the header JSON gives more than once ("tensor 'x'"), which
    /// JSONSerialization would silently resolve to one of them; nil when the header has
    /// `distinctKeys` keys, as parsed.
    static func duplicateKey(_ header: Data, distinctKeys: Int) -> String? {
        var keys: [Data] = []
        var depth = 0, inString = false, escaped = false, start = 0
        var lastString: Data?
        for (i, byte) in header.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    lastString = header.subdata(in: (header.startIndex + start)..<(header.startIndex + i))
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; start = i + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":") where depth == 1: if let key = lastString { keys.append(key) }
            default: break
            }
            if byte != UInt8(ascii: ":") && !(byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09) { lastString = nil }
        }
        guard keys.count != distinctKeys else { return nil }
        var seen = Set<Data>()
        let repeated = keys.first { !seen.insert($0).inserted }
        return repeated.map { "tensor '\(String(decoding: $0, as: UTF8.self))'" } ?? "a key (written with different escapes)"
    }

    /// The tensor names, in file order.
    public var names: [String] { infos.map(\.name) }

    public func info(_ name: String) -> Info? { byName[name].map { infos[$0] } }

    /// Converts a tensor to fp32 into `destination` (which holds the tensor's element count).
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        guard let info = info(name) else { throw ModelIOError.missingTensor(file: url.path, tensor: name) }
        let count = info.shape.reduce(1, *)
        let source = base + dataStart + info.begin
        switch info.dtype {
        case "F32":
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case "F16":
            ck_f16_to_f32(destination, source.assumingMemoryBound(to: UInt16.self), Int64(count))
        case "BF16":
            let bits = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: UInt32.self)
            for i in 0..<count { bits[i] = UInt32(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16 }
        default:
            throw ModelIOError.unsupportedDType(file: url.path, tensor: name, dtype: info.dtype)
        }
    }

    /// A tensor converted to fp32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw ModelIOError.missingTensor(file: url.path, tensor: name) }
        let t = Tensor(zeros: info.shape, name: name)
        try read(name, into: t.data)
        return t
    }
}

/// Writes .safetensors files (F32 or BF16), atomically.
public enum SafeTensorsWriter {
    public enum DType: String, Sendable { case f32 = "F32", bf16 = "BF16" }

    /// Writes `tensors` in the given order, with `metadata` (transformers expects format "pt").
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to url: URL, dtype: DType = .f32,
                             metadata: [String: String] = ["format": "pt"]) throws {
        let itemSize = dtype == .f32 ? 4 : 2
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * itemSize
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        // Streamed tensor by tensor (bf16 through a 1M-value buffer): no copy of the whole file.
        try AtomicFile.write(to: url) { sink in
            try withUnsafeBytes(of: UInt64(json.count).littleEndian) { try sink($0) }
            try json.withUnsafeBytes { try sink($0) }
            var half = [UInt16](repeating: 0, count: dtype == .f32 ? 0 : 1 << 20)
            for (_, t) in tensors {
                if dtype == .f32 {
                    try sink(UnsafeRawBufferPointer(start: t.data, count: t.count * itemSize))
                    continue
                }
                for start in stride(from: 0, to: t.count, by: half.count) {
                    let n = min(half.count, t.count - start)
                    for i in 0..<n { half[i] = bfloat16Bits(t.data[start + i]) }
                    try half.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(n * itemSize)])) }
                }
            }
        }
    }

    /// fp32 -> bf16 bits, round to nearest even (NaN stays NaN).
    static func bfloat16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }
}
