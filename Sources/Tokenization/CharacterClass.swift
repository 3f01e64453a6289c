/// The character classes the pre-tokenizer regexes tell apart (`\p{L}`, `\p{N}`, `\s`, anything else),
/// as Oniguruma sees them in Hugging Face `tokenizers`.
///
/// Oniguruma's tables are Unicode 16; Swift's are newer. Characters Swift knows to be assigned in
/// Unicode 17 or later count as `other` (unassigned), which keeps both sides equal on every scalar
/// (checked over all of Unicode against `tokenizers` 0.23).
enum CharacterClass: UInt8, Sendable {
    case other = 0
    case letter
    case number
    case whitespace

    /// The class of a scalar value.
    @inline(__always)
    static func of(_ value: UInt32) -> CharacterClass {
        value < 0x10000 ? basicPlane[Int(value)] : compute(value)
    }

    /// Classes of U+0000...U+FFFF, computed once (about 4 ms) so the hot loop avoids the slower
    /// `Unicode.Scalar.Properties` lookups.
    static let basicPlane: [CharacterClass] = (0..<0x10000).map { compute(UInt32($0)) }

    private static func compute(_ value: UInt32) -> CharacterClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        if let age = properties.age, age.major >= 17 { return .other }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Rust's `\w` (regex crate, Unicode): alphabetic, marks, decimal digits, connector punctuation,
    /// join controls. Used by added tokens' `single_word` test.
    static func isWordCharacter(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The scalar whose UTF-8 starts at byte `i`, and its length in bytes. The text is valid UTF-8
    /// (it comes from a Swift `String`); a truncated sequence at the end reads as U+FFFD of length 1.
    @inline(__always)
    func scalar(at i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(self[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0, i + 1 < count {
            return ((b0 & 0x1F) << 6 | UInt32(self[i + 1] & 0x3F), 2)
        }
        if b0 < 0xF0, i + 2 < count {
            return ((b0 & 0x0F) << 12 | UInt32(self[i + 1] & 0x3F) << 6 | UInt32(self[i + 2] & 0x3F), 3)
        }
        if i + 3 < count {
            let value = (b0 & 0x07) << 18 | UInt32(self[i + 1] & 0x3F) << 12
                | UInt32(self[i + 2] & 0x3F) << 6 | UInt32(self[i + 3] & 0x3F)
            return (value, 4)
        }
        return (0xFFFD, 1)
    }

    /// The start of the scalar that ends at byte `end` (exclusive).
    @inline(__always)
    func scalarStart(before end: Int) -> Int {
        var i = end - 1
        while i > 0, self[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }
}
