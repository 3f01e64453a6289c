/// A bounds-checked little-endian reader over the bytes of a GGUF file: every read that would pass
/// the end throws `ModelIOError.corrupt` naming the file, what was being read and where.
struct GGUFCursor {
    /// Arrays may hold arrays; deeper nesting than this is treated as corruption (and keeps a
    /// crafted file from exhausting the stack).
    static let maxArrayDepth = 8

    let base: UnsafeRawPointer
    let size: Int
    let file: String
    private(set) var offset = 0

    init(base: UnsafeRawPointer, size: Int, file: String) {
        self.base = base
        self.size = size
        self.file = file
    }

    var remaining: Int { size - offset }

    func corrupt(_ reason: String) -> ModelIOError { .corrupt(file: file, reason: reason) }

    /// Advances past `count` bytes and returns where they start.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawPointer {
        guard count >= 0, count <= remaining else {
            throw corrupt("\(what()) at byte \(offset) needs \(count) bytes, only \(remaining) remain of \(size)")
        }
        defer { offset += count }
        return base + offset
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        T(littleEndian: try take(MemoryLayout<T>.size, what()).loadUnaligned(as: T.self))
    }

    /// A u64 length or count that must fit in `Int`.
    mutating func count(_ what: @autoclosure () -> String) throws -> Int {
        let start = offset
        let raw = try scalar(UInt64.self, what())
        guard let n = Int(exactly: raw) else { throw corrupt("\(what()) at byte \(start) is \(raw), too large") }
        return n
    }

    /// A gguf string: u64 byte length, then UTF-8 bytes (invalid sequences are replaced by U+FFFD,
    /// as no valid model needs them).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = offset
        let length = try count("length of \(what())")
        guard length <= remaining else {
            throw corrupt("\(what()) at byte \(start) claims \(length) bytes, only \(remaining) remain of \(size)")
        }
        let bytes = try take(length, what())
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// A metadata value of `type` (arrays recursively, at most `maxArrayDepth` deep).
    mutating func value(_ type: GGUFValueType, _ what: @autoclosure () -> String, depth: Int = 0) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try scalar(UInt8.self, what()))
        case .int8: return .int8(try scalar(Int8.self, what()))
        case .uint16: return .uint16(try scalar(UInt16.self, what()))
        case .int16: return .int16(try scalar(Int16.self, what()))
        case .uint32: return .uint32(try scalar(UInt32.self, what()))
        case .int32: return .int32(try scalar(Int32.self, what()))
        case .uint64: return .uint64(try scalar(UInt64.self, what()))
        case .int64: return .int64(try scalar(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try scalar(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try scalar(UInt64.self, what())))
        case .bool: return .bool(try scalar(UInt8.self, what()) != 0)
        case .string: return .string(try string(what()))
        case .array:
            let element = try valueType(what())
            let start = offset
            let n = try count("element count of \(what())")
            guard n <= remaining / element.minimumBytes else {
                throw corrupt("\(what()) at byte \(start) claims \(n) \(element) elements, more than the \(remaining) remaining bytes hold")
            }
            guard element != .array || depth < Self.maxArrayDepth else {
                throw corrupt("\(what()) nests arrays more than \(Self.maxArrayDepth) deep")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for i in 0..<n { values.append(try value(element, "element \(i) of \(what())", depth: depth + 1)) }
            return .array(element, values)
        }
    }

    /// A u32 value type id.
    mutating func valueType(_ what: @autoclosure () -> String) throws -> GGUFValueType {
        let start = offset
        let raw = try scalar(UInt32.self, "value type of \(what())")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw corrupt("\(what()) at byte \(start) has unknown value type \(raw)")
        }
        return type
    }
}
