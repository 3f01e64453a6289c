/// A TensorBoard `Event` (tensorflow/core/util/event.proto): wall_time (1, double), step (2, int64),
/// and either file_version (3, string) or summary (5, Summary); a Summary's values (1, repeated)
/// each hold tag (1, string) and simple_value (2, float).
public struct Event: Equatable, Sendable {
    public var wallTime: Double
    public var step: Int64
    public var fileVersion: String?
    public var scalars: [Scalar]

    public struct Scalar: Equatable, Sendable {
        public var tag: String
        public var value: Float

        public init(tag: String, value: Float) {
            self.tag = tag
            self.value = value
        }
    }

    public init(wallTime: Double, step: Int64 = 0, fileVersion: String? = nil, scalars: [Scalar] = []) {
        self.wallTime = wallTime
        self.step = step
        self.fileVersion = fileVersion
        self.scalars = scalars
    }

    /// The protobuf encoding (fields in number order, as the Python writers emit them).
    public var encoded: [UInt8] {
        var w = ProtoWriter()
        w.double(1, wallTime)
        if step != 0 { w.int64(2, step) }
        if let fileVersion { w.string(3, fileVersion) }
        if !scalars.isEmpty {
            var summary = ProtoWriter()
            for s in scalars {
                var value = ProtoWriter()
                value.string(1, s.tag)
                value.float(2, s.value)
                summary.bytes(1, value.bytes)
            }
            w.bytes(5, summary.bytes)
        }
        return w.bytes
    }

    /// Decodes an Event; summary values without a simple_value (images, tensors) are skipped.
    public init(decoding bytes: ArraySlice<UInt8>) throws {
        self.init(wallTime: 0)
        var r = ProtoReader(bytes)
        while let (field, value) = try r.next() {
            switch (field, value) {
            case (1, .fixed64(let bits)): wallTime = Double(bitPattern: bits)
            case (2, .varint(let v)): step = Int64(bitPattern: v)
            case (3, .bytes(let b)): fileVersion = String(decoding: b, as: UTF8.self)
            case (5, .bytes(let b)): scalars += try Self.scalars(b)
            default: continue
            }
        }
    }

    static func scalars(_ summary: ArraySlice<UInt8>) throws -> [Scalar] {
        var r = ProtoReader(summary), out: [Scalar] = []
        while let (field, value) = try r.next() {
            guard field == 1, case .bytes(let b) = value else { continue }
            var v = ProtoReader(b), tag: String?, simple: Float?
            while let (f, x) = try v.next() {
                if f == 1, case .bytes(let t) = x { tag = String(decoding: t, as: UTF8.self) }
                if f == 2, case .fixed32(let bits) = x { simple = Float(bitPattern: bits) }
            }
            if let tag, let simple { out.append(Scalar(tag: tag, value: simple)) }
        }
        return out
    }
}
