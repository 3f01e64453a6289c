import Foundation

/// How values become text: Python's `str()` and `repr()`, and `json.dumps` as transformers' `tojson` calls it.
extension JinjaValue {
    /// Python's `str(value)`, which `{{ }}`, `~`, `join` and `string` use; undefined renders as "".
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr(value)`, used for the items of printed lists and dicts: `['a', 1, None]`.
    public var pythonRepr: String {
        var printing: Set<ObjectIdentifier> = []
        return repr(&printing)
    }

    /// `printing` holds the namespaces being printed: a namespace that contains itself prints as
    /// `<Namespace {...}>` inside itself, as in Python, instead of recursing forever.
    private func repr(_ printing: inout Set<ObjectIdentifier>) -> String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.pythonFloat(d)
        case .string(let s): return JinjaValue.pythonStringRepr(s)
        case .array(let a): return "[" + a.map { $0.repr(&printing) }.joined(separator: ", ") + "]"
        case .object(let o): return JinjaValue.dictRepr(o, &printing)
        case .namespace(let n):
            guard printing.insert(ObjectIdentifier(n)).inserted else { return "<Namespace {...}>" }
            defer { printing.remove(ObjectIdentifier(n)) }
            return "<Namespace \(JinjaValue.dictRepr(n.snapshot, &printing))>"
        case .function(let f): return "<function \(f.name)>"
        }
    }

    private static func dictRepr(_ object: JinjaObject, _ printing: inout Set<ObjectIdentifier>) -> String {
        "{" + object.pairs.map { pythonStringRepr($0.key) + ": " + $0.value.repr(&printing) }.joined(separator: ", ") + "}"
    }

    /// Python's float repr: the shortest digits that round-trip, in fixed notation when the decimal exponent
    /// is in [-4, 16) ("1.0", "0.0001"), otherwise scientific with a signed two-digit exponent ("1e-05", "1e+16").
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, exponent) = shortestDigits(abs(value))  // value = 0.d1d2d3... x 10^exponent
        let sign = value < 0 ? "-" : ""
        let pointPosition = exponent  // digits before the decimal point
        if pointPosition > -4 && pointPosition <= 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
            }
            if pointPosition >= digits.count {
                return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            }
            let split = digits.index(digits.startIndex, offsetBy: pointPosition)
            return sign + digits[..<split] + "." + digits[split...]
        }
        let scientificExponent = pointPosition - 1
        let mantissa = digits.count == 1 ? digits : String(digits.prefix(1)) + "." + digits.dropFirst()
        let exponentDigits = String(abs(scientificExponent))
        return sign + mantissa + "e" + (scientificExponent < 0 ? "-" : "+")
            + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
    }

    /// The shortest round-trip decimal digits of a positive finite double (Swift's `description` computes them)
    /// and the exponent e such that value = 0.digits x 10^e.
    private static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description  // "123.45", "1e-05", "1.2345e+20"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fractionPart
        var pointPosition = integerPart.count + exponent
        while digits.first == "0" && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        return (digits, pointPosition)
    }

    /// Python's `repr(str)`: single quotes unless the text holds a single quote and no double quote.
    static func pythonStringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }
}

// MARK: - JSON output

extension JinjaValue {
    /// `json.dumps(value, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sortKeys)`, which
    /// is transformers' `tojson`: separators default to (", ", ": "), or (",", ": ") when indenting.
    func json(indent: String? = nil, separators: (item: String, key: String)? = nil, sortKeys: Bool = false,
              ensureASCII: Bool = false) throws -> String {
        let separators = separators ?? (indent == nil ? ", " : ",", ": ")
        var out = ""
        try writeJSON(into: &out, indent: indent, level: 0, separators: separators, sortKeys: sortKeys,
                      ensureASCII: ensureASCII)
        return out
    }

    private func writeJSON(into out: inout String, indent: String?, level: Int, separators: (item: String, key: String),
                           sortKeys: Bool, ensureASCII: Bool) throws {
        // The text between items: a separator, then a newline and indentation when indenting.
        func newline(_ level: Int) -> String {
            indent.map { "\n" + String(repeating: $0, count: level) } ?? ""
        }
        switch self {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : JinjaValue.pythonFloat(d)
        case .string(let s): out += JinjaValue.jsonString(s, ensureASCII: ensureASCII)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[" + newline(level + 1)
            for (i, item) in items.enumerated() {
                if i > 0 { out += separators.item + newline(level + 1) }
                try item.writeJSON(into: &out, indent: indent, level: level + 1, separators: separators,
                                   sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            out += newline(level) + "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            let pairs = sortKeys ? object.pairs.sorted { $0.key.pythonPrecedes($1.key) } : object.pairs
            out += "{" + newline(level + 1)
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += separators.item + newline(level + 1) }
                out += JinjaValue.jsonString(pair.key, ensureASCII: ensureASCII) + separators.key
                try pair.value.writeJSON(into: &out, indent: indent, level: level + 1, separators: separators,
                                         sortKeys: sortKeys, ensureASCII: ensureASCII)
            }
            out += newline(level) + "}"
        case .undefined, .namespace, .function:
            throw TokenizerError.template(message: "Object of type \(typeName) is not JSON serializable", line: nil)
        }
    }

    /// A JSON string literal as Python's json module writes it: short escapes for \" \\ \n \r \t \b \f,
    /// \u00XX for other control characters, everything else raw (or \uXXXX, with surrogate pairs, if ASCII only).
    static func jsonString(_ s: String, ensureASCII: Bool) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
