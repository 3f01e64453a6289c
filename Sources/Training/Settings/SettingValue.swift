/// A setting as a config file or a `--set key=value` override gives it, before it is checked
/// against its key. The command line turns YAML into these; the library never reads YAML.
public enum SettingValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([SettingValue])
    /// A nested mapping: no key takes one; kept so the error can say what was given.
    case mapping

    /// As a person would write it in YAML (strings quoted when they would read back as something else).
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return "\(v)"
        case .int(let v): return "\(v)"
        case .double(let v): return v.isFinite ? "\(v)" : (v.isNaN ? ".nan" : (v > 0 ? ".inf" : "-.inf"))
        case .string(let v): return Self.quotedIfNeeded(v)
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .mapping: return "a mapping"
        }
    }

    /// A string as YAML: plain when it cannot be mistaken for another type, else double-quoted.
    static func quotedIfNeeded(_ s: String) -> String {
        let plainSafe = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "_-./@+".contains($0) }
            && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(s.lowercased())
            && Double(s) == nil && Int(s) == nil && !s.hasPrefix("-") && !s.hasPrefix(".")
        if plainSafe { return s }
        // A JSON string is a YAML double-quoted scalar.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// As JSON-compatible Foundation values (trainer_state.json).
    public var jsonObject: Any {
        switch self {
        case .null, .mapping: return NSNull()
        case .bool(let v): return v
        case .int(let v): return v
        case .double(let v): return v.isFinite ? v as Any : NSNull()
        case .string(let v): return v
        case .list(let items): return items.map(\.jsonObject)
        }
    }
}

import Foundation
