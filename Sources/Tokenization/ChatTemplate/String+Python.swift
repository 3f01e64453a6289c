import Foundation

/// Python `str` operations with Python's exact rules (whitespace set, code-point indexing), which templates
/// rely on through `.strip()`, `.split()`, `trim`, `indent` and slicing.
extension Unicode.Scalar {
    /// Python's `str.isspace()` for one character (also the set `\s` matches in Jinja's lexer).
    var isPythonWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.splitlines()` line boundaries.
    var isPythonLineBreak: Bool {
        switch value {
        case 0x0A...0x0D, 0x1C...0x1E, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }
}

extension String {
    /// The text as Python sees it: a sequence of code points.
    var scalars: [Unicode.Scalar] { Array(unicodeScalars) }

    init(scalars: some Sequence<Unicode.Scalar>) {
        var s = ""
        s.unicodeScalars.append(contentsOf: scalars)
        self = s
    }

    /// `str.strip(chars)`, `lstrip`, `rstrip`: removes whitespace (or any of `chars`) from the chosen ends.
    func pythonStrip(_ chars: String? = nil, leading: Bool = true, trailing: Bool = true) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let strip: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? $0.isPythonWhitespace }
        var view = Substring(self).unicodeScalars[...]
        if leading { view = view.drop(while: strip) }
        if trailing {
            while let last = view.last, strip(last) { view = view.dropLast() }
        }
        return String(String.UnicodeScalarView(view))
    }

    /// `str.split(sep, maxsplit)`: on runs of whitespace, dropping empty pieces, when `separator` is nil.
    func pythonSplit(_ separator: String?, maxSplit: Int = -1) throws -> [String] {
        guard let separator else {
            var pieces: [String] = []
            var rest = Substring(self).unicodeScalars.drop(while: \.isPythonWhitespace)
            while !rest.isEmpty {
                if maxSplit >= 0 && pieces.count == maxSplit {
                    var tail = rest
                    while let last = tail.last, last.isPythonWhitespace { tail = tail.dropLast() }
                    pieces.append(String(String.UnicodeScalarView(tail)))
                    break
                }
                let word = rest.prefix { !$0.isPythonWhitespace }
                pieces.append(String(String.UnicodeScalarView(word)))
                rest = rest.dropFirst(word.count).drop(while: \.isPythonWhitespace)
            }
            return pieces
        }
        guard !separator.isEmpty else {
            throw TokenizerError.template(message: "split(): empty separator", line: nil)
        }
        let text = scalars, sep = separator.scalars
        var pieces: [String] = []
        var start = 0, i = 0
        while i + sep.count <= text.count && (maxSplit < 0 || pieces.count < maxSplit) {
            if text[i..<(i + sep.count)].elementsEqual(sep) {
                pieces.append(String(scalars: text[start..<i]))
                i += sep.count
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(String(scalars: text[start...]))
        return pieces
    }

    /// `str.splitlines()`: splits on every Python line boundary (\r\n counts as one), without the breaks.
    func pythonSplitLines() -> [String] {
        let text = scalars
        var lines: [String] = []
        var start = 0, i = 0
        while i < text.count {
            if text[i].isPythonLineBreak {
                lines.append(String(scalars: text[start..<i]))
                i += (text[i] == "\r" && i + 1 < text.count && text[i + 1] == "\n") ? 2 : 1
                start = i
            } else {
                i += 1
            }
        }
        if start < text.count { lines.append(String(scalars: text[start...])) }
        return lines
    }

    /// `str.replace(old, new, count)`; an empty `old` inserts `new` between every code point, as Python does.
    func pythonReplace(_ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            var out: [String] = [], inserted = 0
            for scalar in unicodeScalars {
                if count < 0 || inserted < count { out.append(new); inserted += 1 }
                out.append(String(scalar))
            }
            if count < 0 || inserted < count { out.append(new) }
            return out.joined()
        }
        guard let pieces = try? pythonSplit(old, maxSplit: count) else { return self }
        return pieces.joined(separator: new)
    }

    /// `str.capitalize()`: the first character upper case, the rest lower case.
    var pythonCapitalized: String {
        guard let first = unicodeScalars.first else { return self }
        return String(first).uppercased() + String(unicodeScalars.dropFirst()).lowercased()
    }

    /// `str.title()`: upper case after any uncased character, lower case elsewhere.
    var pythonTitle: String {
        var out = "", previousCased = false
        for scalar in unicodeScalars {
            let cased = scalar.properties.isCased
            out += previousCased ? String(scalar).lowercased() : String(scalar).uppercased()
            previousCased = cased
        }
        return out
    }

    /// Python's `<` on strings: code point order (Swift's `<` on String uses canonical ordering instead).
    func pythonPrecedes(_ other: String) -> Bool {
        unicodeScalars.lexicographicallyPrecedes(other.unicodeScalars)
    }
}
