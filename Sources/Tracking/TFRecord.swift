/// TFRecord framing, as TensorFlow writes event files: for each record, its length (u64 little
/// endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data.
public enum TFRecord {
    /// One framed record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        out += length
        out += littleEndian(CRC32C.masked(length))
        out += data
        out += littleEndian(CRC32C.masked(data))
        return out
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static func u32(_ b: ArraySlice<UInt8>) -> UInt32 {
        b.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    /// The records of `bytes` up to the last whole one whose checksums hold, and why reading stopped
    /// early (nil when every byte was read): a file cut at any byte gives its whole records.
    public static func records(_ bytes: [UInt8]) -> (records: [ArraySlice<UInt8>], stoppedBecause: String?) {
        var records: [ArraySlice<UInt8>] = []
        var at = 0
        while at < bytes.count {
            guard bytes.count - at >= 12 else { return (records, "a record header cut at byte \(bytes.count)") }
            let lengthBytes = bytes[at..<(at + 8)]
            guard u32(bytes[(at + 8)..<(at + 12)]) == CRC32C.masked(lengthBytes) else {
                return (records, "bad length checksum at byte \(at)")
            }
            let length = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            guard length <= UInt64(bytes.count - at - 12), bytes.count - at - 12 - Int(length) >= 4 else {
                return (records, "a record of \(length) bytes cut at byte \(bytes.count)")
            }
            let data = bytes[(at + 12)..<(at + 12 + Int(length))]
            guard u32(bytes[(at + 12 + Int(length))..<(at + 16 + Int(length))]) == CRC32C.masked(data) else {
                return (records, "bad data checksum at byte \(at)")
            }
            records.append(data)
            at += 16 + Int(length)
        }
        return (records, nil)
    }
}
