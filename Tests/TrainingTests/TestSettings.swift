import Training

/// `key=value` settings for tests, read as YAML scalars would be (integers, numbers, booleans,
/// null, `[a, b]` lists, else strings); the command line reads them with a YAML parser.
enum TestSettings {
    static func entries(_ texts: [String]) -> [SettingEntry] {
        texts.map { text in
            let eq = text.firstIndex(of: "=")!
            return SettingEntry(String(text[..<eq]), value(String(text[text.index(after: eq)...])), source: "--set")
        }
    }

    static func value(_ raw: String) -> SettingValue {
        if raw == "null" { return .null }
        if raw == "true" || raw == "false" { return .bool(raw == "true") }
        if let i = Int(raw) { return .int(i) }
        if let d = Double(raw) { return .double(d) }
        if raw.hasPrefix("[") && raw.hasSuffix("]") {
            return .list(raw.dropFirst().dropLast().split(separator: ",").map { value($0.trimmingCharacters(in: .whitespaces)) })
        }
        return .string(raw)
    }
}
