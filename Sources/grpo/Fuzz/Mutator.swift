import Foundation
import Tasks

/// Seeded mutations of a valid input: the same seed, case index and input always give the same bytes.
///
/// Byte mutations (any format): truncation, bit flips, interesting bytes, an 8- or 4-byte field set to
/// a huge or boundary value (at a known length or count field when the format lists them, else
/// anywhere), a chunk deleted or repeated. Text mutations (JSON, YAML, JSONL, Jinja): a number
/// replaced by a huge or odd one, a key given twice, deep nesting, a value of the wrong type, invalid
/// UTF-8, a huge line, and a few Jinja constructs that ask for unbounded work.
struct Mutator {
    /// Byte offsets of the length, count, type and offset fields of a binary input (little-endian
    /// u64 or u32 fields), which mutations aim at half the time.
    typealias Field = (offset: Int, width: Int)

    var random: SeededRandom

    init(seed: UInt64, caseIndex: Int, stream: UInt64) {
        random = SeededRandom(seed: seed &+ UInt64(caseIndex) &* 0x9E37_79B9, stream: stream)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { random.int(in: range) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// One to three stacked mutations of `input`; `fields` are the binary fields worth aiming at,
    /// `text` whether text mutations apply. Returns the bytes and a short description of what was done.
    mutating func mutate(_ input: [UInt8], fields: [Field], text: Bool) -> ([UInt8], String) {
        var bytes = input
        var done: [String] = []
        for _ in 0..<int(1...3) {
            let description: String
            if text && chance(60) {
                description = mutateText(&bytes)
            } else {
                description = mutateBytes(&bytes, fields: fields)
            }
            done.append(description)
        }
        return (bytes, done.joined(separator: "; "))
    }

    // MARK: - Bytes

    static let hugeValues: [UInt64] = [
        0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF, 1 << 40, 1 << 62, 0xFFFF_FFFF_FFFF_FFF0,
    ]

    mutating func mutateBytes(_ bytes: inout [UInt8], fields: [Field]) -> String {
        guard !bytes.isEmpty else { bytes = [0xFF]; return "empty -> one byte" }
        switch int(0...6) {
        case 0:
            let at = int(0...(bytes.count - 1))
            bytes.removeSubrange(at...)
            return "truncated at \(at)"
        case 1:
            let flips = int(1...8)
            for _ in 0..<flips { bytes[int(0...(bytes.count - 1))] ^= 1 << UInt8(int(0...7)) }
            return "\(flips) bit flips"
        case 2:
            let at = int(0...(bytes.count - 1)), value = pick([UInt8(0), 0xFF, 0x7F, 0x80, 0x01, 0x20, 0x22, 0x5C])
            bytes[at] = value
            return "byte \(at) = \(value)"
        case 3, 4:
            let field: Field = fields.isEmpty || chance(30) ? (int(0...(bytes.count - 1)), pick([4, 8])) : pick(fields)
            let value = chance(80) ? pick(Self.hugeValues) : random.next()
            for k in 0..<field.width where field.offset + k < bytes.count {
                bytes[field.offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))
            }
            return "\(field.width)-byte field at \(field.offset) = \(value)"
        case 5:
            let at = int(0...(bytes.count - 1)), length = min(int(1...256), bytes.count - at)
            bytes.removeSubrange(at..<(at + length))
            return "deleted \(length) bytes at \(at)"
        default:
            let at = int(0...(bytes.count - 1)), length = min(int(1...256), bytes.count - at)
            let chunk = Array(bytes[at..<(at + length)]), times = int(1...8)
            for _ in 0..<times { bytes.insert(contentsOf: chunk, at: at) }
            return "repeated \(length) bytes at \(at) \(times) times"
        }
    }

    // MARK: - Text

    static let oddNumbers = [
        "-1", "0", "1e308", "-1e308", "1e999", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "4294967296", "1099511627776", "4611686018427387904", "0.5", "-0", "NaN", "Infinity",
        "1e-400", "123456789012345678901234567890",
    ]
    static let oddValues = [
        "null", "true", "false", "\"\"", "\"x\"", "[]", "{}", "[1, \"a\", null]", "{\"a\": 1}", "-1", "1e999", "\"\\ud800\"",
        "\"\\u0000\"",
    ]
    static let jinja = [
        "{% for i in range(999999999999) %}x{% endfor %}", "{{ 'a' * 999999999999 }}", "{{ range(999999999999) | list }}",
        "{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "{{ messages * 999999999 }}",
        "{% for m in messages %}{% for m2 in messages %}{% for m3 in messages %}x{% endfor %}{% endfor %}{% endfor %}",
        "{{ 'x' | indent(999999999999) }}", "{{ '%s' % 1 }}", "{{ (1, 2)[999999999999] }}", "{{ 'abc'[::-999999999999] }}",
        "{{ 99999999999999999999 }}", "{{ 1 / 0 }}", "{{ 1 // 0 }}", "{{ 2 ** 99999999 }}", "{{ 'a' ~ 1e400 }}",
        "{% set x = namespace(a=1) %}{% for i in range(99999999) %}{% set x.a = x.a + 1 %}{% endfor %}",
        "{{ messages[0]['content'] * 99999999 }}", "{{ 'x'.center(999999999999) }}", "{{ 'x'.ljust(999999999999) }}",
        "{{ 'x' | truncate(-1) }}", "{{ [1,2] | batch(0) | list }}", "{{ 'abc' | wordwrap(0) }}",
        "{{ strftime_now('%Y' * 99999999) }}",
    ]

    mutating func mutateText(_ bytes: inout [UInt8]) -> String {
        switch int(0...9) {
        case 0: return replaceNumber(&bytes)
        case 1: return duplicateKey(&bytes)
        case 2: return nest(&bytes)
        case 3: return replaceValue(&bytes)
        case 4:
            let at = int(0...bytes.count), bad = pick([[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0x80], [0x00], [0xE2, 0x82]] as [[UInt8]])
            bytes.insert(contentsOf: bad, at: at)
            return "invalid UTF-8 \(bad) at \(at)"
        case 5:
            let at = stringInterior(bytes) ?? int(0...bytes.count), length = chance(90) ? pick([1 << 10, 1 << 14, 1 << 17]) : 1 << 21
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: pick(["a", " ", "\\", "{", "0"])), count: length), at: at)
            return "\(length) bytes inserted at \(at)"
        case 6:
            let snippet = pick(Self.jinja)
            let at = int(0...bytes.count)
            bytes.insert(contentsOf: Array(snippet.utf8), at: at)
            return "inserted '\(snippet)' at \(at)"
        case 7:
            let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            guard lines.count > 1 else { return replaceValue(&bytes) }
            var copy = lines.map(Array.init)
            let a = int(0...(copy.count - 1)), b = int(0...(copy.count - 1))
            if chance(50) { copy.swapAt(a, b) } else { copy.insert(copy[a], at: b) }
            bytes = Array(copy.joined(separator: [UInt8(ascii: "\n")]))
            return "lines \(a), \(b) swapped or copied"
        case 8:
            let pairs: [(String, String)] = [("{", "}"), ("[", "]"), ("\"", "\""), ("{%", "%}"), ("{{", "}}"), (":", ","), ("\n", " ")]
            let (a, b) = pick(pairs)
            let found = occurrences(of: Array(chance(50) ? a.utf8 : b.utf8), in: bytes)
            guard !found.isEmpty else {
                return replaceValue(&bytes)
            }
            let at = pick(found)
            bytes.remove(at: at)
            return "removed byte \(at)"
        default:
            return replaceValue(&bytes)
        }
    }

    /// Offsets where `needle` starts in `bytes`.
    func occurrences(of needle: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard !needle.isEmpty, bytes.count >= needle.count else { return [] }
        var found: [Int] = []
        var i = 0
        while i <= bytes.count - needle.count {
            if bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle { found.append(i) }
            i += 1
        }
        return found
    }

    /// The byte ranges of the numbers in the text.
    func numberRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var i = 0
        let isNumberByte = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "e") }
        while i < bytes.count {
            if bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                var j = i
                while j < bytes.count && isNumberByte(bytes[j]) { j += 1 }
                var start = i
                if start > 0 && bytes[start - 1] == UInt8(ascii: "-") { start -= 1 }
                ranges.append(start..<j)
                i = j
            } else {
                i += 1
            }
        }
        return ranges
    }

    mutating func replaceNumber(_ bytes: inout [UInt8]) -> String {
        let ranges = numberRanges(bytes)
        guard !ranges.isEmpty else { return replaceValue(&bytes) }
        let range = pick(ranges), number = pick(Self.oddNumbers)
        bytes.replaceSubrange(range, with: Array(number.utf8))
        return "number at \(range.lowerBound) = \(number)"
    }

    /// A position just after an opening quote, inside a string.
    mutating func stringInterior(_ bytes: [UInt8]) -> Int? {
        let quotes = occurrences(of: [UInt8(ascii: "\"")], in: bytes)
        return quotes.isEmpty ? nil : pick(quotes) + 1
    }

    /// Keys: a quoted string followed by optional spaces and a colon (JSON), or a line start
    /// followed by a word and a colon (YAML).
    func keyRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for colon in occurrences(of: [UInt8(ascii: ":")], in: bytes) {
            var end = colon
            while end > 0 && bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
            guard end > 0 else { continue }
            var start = end - 1
            if bytes[end - 1] == UInt8(ascii: "\"") {
                guard start > 0 else { continue }
                start -= 1
                while start > 0 && bytes[start] != UInt8(ascii: "\"") { start -= 1 }
                guard bytes[start] == UInt8(ascii: "\"") else { continue }
            } else {
                while start > 0 && bytes[start - 1] != UInt8(ascii: "\n") && bytes[start - 1] != UInt8(ascii: " ") { start -= 1 }
            }
            ranges.append(start..<end)
        }
        return ranges
    }

    mutating func duplicateKey(_ bytes: inout [UInt8]) -> String {
        let keys = keyRanges(bytes)
        guard !keys.isEmpty else { return replaceValue(&bytes) }
        let key = pick(keys)
        let isJSON = bytes[key.lowerBound] == UInt8(ascii: "\"")
        let value = pick(Self.oddValues)
        let insertion = Array(bytes[key]) + Array((isJSON ? ": \(value), " : ": \(value)\n").utf8)
        var at = key.lowerBound
        if !isJSON { while at > 0 && bytes[at - 1] == UInt8(ascii: " ") { at -= 1 } }
        bytes.insert(contentsOf: isJSON ? insertion : Array(bytes[at..<key.lowerBound]) + insertion, at: at)
        return "key '\(String(decoding: bytes[key], as: UTF8.self).prefix(40))' given twice"
    }

    mutating func nest(_ bytes: inout [UInt8]) -> String {
        let depth = pick([64, 512, 4096, 100_000])
        let (open, close) = pick([("[", "]"), ("{\"a\":", "}"), ("- ", ""), ("{{ (", ") }}"), ("(", ")")])
        let inner = Array(String(repeating: open, count: depth).utf8) + Array("1".utf8) +
            (chance(70) ? Array(String(repeating: close, count: depth).utf8) : [])
        let at = valuePosition(bytes)
        bytes.insert(contentsOf: inner, at: at)
        return "nested '\(open)' \(depth) deep at \(at)"
    }

    /// A position just after a colon (a value), or anywhere.
    mutating func valuePosition(_ bytes: [UInt8]) -> Int {
        let colons = occurrences(of: [UInt8(ascii: ":")], in: bytes)
        return colons.isEmpty || chance(20) ? int(0...bytes.count) : pick(colons) + 1
    }

    mutating func replaceValue(_ bytes: inout [UInt8]) -> String {
        let at = valuePosition(bytes)
        var end = at
        let stops: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: "\n")]
        while end < bytes.count && !stops.contains(bytes[end]) && end - at < 200 { end += 1 }
        let value = pick(Self.oddValues)
        bytes.replaceSubrange(at..<end, with: Array((" " + value).utf8))
        return "value at \(at) = \(value)"
    }
}
