import Foundation

/// Reading JSON into template values. Unlike `JSONSerialization`, this keeps the order of object keys and
/// tells integers from floats, both of which show in rendered templates (`tool | tojson`, `26` vs `26.0`).
extension JinjaValue {
    /// Parses one JSON document; `source` names it in errors.
    public init(json: String, source: String = "JSON") throws {
        var parser = JSONReader(text: Array(json.unicodeScalars), source: source)
        parser.skipWhitespace()
        self = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.text.count else { throw parser.error("unexpected text after the value") }
    }
}

/// A small recursive-descent JSON reader over Unicode scalars.
private struct JSONReader {
    let text: [Unicode.Scalar]
    let source: String
    var position = 0

    init(text: [Unicode.Scalar], source: String) {
        self.text = text
        self.source = source
    }

    func error(_ reason: String) -> TokenizerError {
        .malformed(file: source, field: "offset \(position)", reason: reason)
    }

    mutating func skipWhitespace() {
        while position < text.count, [" ", "\n", "\r", "\t"].contains(text[position]) { position += 1 }
    }

    mutating func expect(_ literal: String) throws {
        for scalar in literal.unicodeScalars {
            guard position < text.count, text[position] == scalar else { throw error("expected '\(literal)'") }
            position += 1
        }
    }

    mutating func value(depth: Int) throws -> JinjaValue {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        guard position < text.count else { throw error("unexpected end of JSON") }
        switch text[position] {
        case "{":
            position += 1
            var object = JinjaObject()
            skipWhitespace()
            if position < text.count, text[position] == "}" {
                position += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                guard position < text.count, text[position] == "\"" else { throw error("expected a string key") }
                let key = try string()
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                object[key] = try value(depth: depth + 1)
                skipWhitespace()
                if position < text.count, text[position] == "," { position += 1; continue }
                try expect("}")
                return .object(object)
            }
        case "[":
            position += 1
            var items: [JinjaValue] = []
            skipWhitespace()
            if position < text.count, text[position] == "]" {
                position += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                if position < text.count, text[position] == "," { position += 1; continue }
                try expect("]")
                return .array(items)
            }
        case "\"": return .string(try string())
        case "t": try expect("true"); return .bool(true)
        case "f": try expect("false"); return .bool(false)
        case "n": try expect("null"); return .none
        default: return try number()
        }
    }

    /// A string literal, decoding escapes (including UTF-16 surrogate pairs).
    mutating func string() throws -> String {
        position += 1  // opening quote
        var out = String.UnicodeScalarView()
        while true {
            guard position < text.count else { throw error("unterminated string") }
            let c = text[position]
            position += 1
            if c == "\"" { return String(out) }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard position < text.count else { throw error("unterminated escape") }
            let e = text[position]
            position += 1
            switch e {
            case "\"", "\\", "/": out.append(e)
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), position + 1 < text.count, text[position] == "\\",
                   text[position + 1] == "u" {
                    position += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        out.append("\u{FFFD}")
                        code = low
                    }
                }
                out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: throw error("invalid escape '\\\(e)'")
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard position + 4 <= text.count,
              let code = UInt32(String(String.UnicodeScalarView(text[position..<(position + 4)])), radix: 16)
        else { throw error("invalid \\u escape") }
        position += 4
        return code
    }

    /// A number: an int when it has no fraction or exponent and fits, otherwise a float (as Python's json does).
    mutating func number() throws -> JinjaValue {
        let start = position
        while position < text.count, "+-0123456789.eE".unicodeScalars.contains(text[position]) { position += 1 }
        let literal = String(String.UnicodeScalarView(text[start..<position]))
        if !literal.contains(where: { ".eE".contains($0) }), let i = Int(literal) { return .int(i) }
        guard let d = Double(literal) else {
            position = start
            throw error("unexpected \(literal.isEmpty ? "character" : "number '\(literal)'")")
        }
        return .double(d)
    }
}
