/// GPT-2's reversible map between the 256 byte values and printable characters, on which
/// byte-level BPE vocabularies are written ("Ġ" is the space byte, "Ċ" the newline).
enum ByteLevel {
    /// The character standing for each byte: printable Latin-1 bytes stand for themselves, the
    /// others for U+0100 onwards, in byte order.
    static let characters: [Unicode.Scalar] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 0x100
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table.map { Unicode.Scalar($0) ?? " " }
    }()

    /// The UTF-8 of each byte's character, concatenated: byte `b` spans `utf8Start[b]..<utf8Start[b + 1]`.
    static let utf8: (bytes: [UInt8], start: [Int]) = {
        var bytes: [UInt8] = []
        var start: [Int] = []
        for scalar in characters {
            start.append(bytes.count)
            bytes.append(contentsOf: Array(String(scalar).utf8))
        }
        start.append(bytes.count)
        return (bytes, start)
    }()

    /// The byte each character stands for, indexed by scalar value (all are below U+0144); -1 if none.
    private static let byteOfScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in characters.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The byte a byte-level character stands for, if it is one.
    @inline(__always)
    static func byte(for scalar: UInt32) -> UInt8? {
        guard scalar < 0x144 else { return nil }
        let byte = byteOfScalar[Int(scalar)]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// The byte-level spelling of some bytes: `" hi"` becomes `"Ġhi"`.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var out = String.UnicodeScalarView()
        for byte in bytes { out.append(characters[Int(byte)]) }
        return String(out)
    }

    /// Appends the UTF-8 of the byte-level spelling of `bytes` to `out`.
    static func appendUTF8(of bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let table = utf8
        for byte in bytes {
            out.append(contentsOf: table.bytes[table.start[Int(byte)]..<table.start[Int(byte) + 1]])
        }
    }

    /// The bytes spelled by valid UTF-8 made only of byte-level characters (undoes `appendUTF8`);
    /// any other character keeps its own UTF-8.
    static func appendBytes(spelledBy text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var i = 0
        while i < text.count {
            let (value, length) = text.scalar(at: i)
            if let byte = byte(for: value) {
                out.append(byte)
            } else {
                out.append(contentsOf: text[i..<i + length])
            }
            i += length
        }
    }

    /// The bytes a token stands for when decoding: its characters' bytes if every character is a
    /// byte-level one, otherwise its own UTF-8 (the rule of Hugging Face's ByteLevel decoder).
    static func bytes(ofToken token: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar.value) else { return Array(token.utf8) }
            out.append(byte)
        }
        return out
    }
}
