import Foundation

/// A JSON object read from a file, with typed accessors whose errors name the file and field.
public struct JSONConfig {
    public let file: String
    public let values: [String: Any]

    public init(url: URL) throws {
        file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelIOError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw ModelIOError.corrupt(file: url.path, reason: "not a JSON object")
        }
        values = dict
    }

    public init(file: String, values: [String: Any]) {
        self.file = file
        self.values = values
    }

    /// Whether the key is present with a non-null value.
    public func has(_ key: String) -> Bool { values[key].map { !($0 is NSNull) } ?? false }

    public func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw ModelIOError.config(file: file, field: key, reason: "missing") }
        return v
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard has(key) else { return nil }
        guard let n = values[key] as? NSNumber, !Self.isBoolean(values[key]), Double(n.intValue) == n.doubleValue else {
            throw ModelIOError.config(file: file, field: key, reason: "expected an integer, got \(describe(values[key]))")
        }
        return n.intValue
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard has(key) else { return nil }
        guard let n = values[key] as? NSNumber, !Self.isBoolean(values[key]) else {
            throw ModelIOError.config(file: file, field: key, reason: "expected a number, got \(describe(values[key]))")
        }
        return n.doubleValue
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        guard Self.isBoolean(values[key]), let b = values[key] as? Bool else {
            throw ModelIOError.config(file: file, field: key, reason: "expected true or false, got \(describe(values[key]))")
        }
        return b
    }

    public func optionalString(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let s = values[key] as? String else {
            throw ModelIOError.config(file: file, field: key, reason: "expected a string, got \(describe(values[key]))")
        }
        return s
    }

    /// An integer or a list of integers (as eos_token_id may be).
    public func optionalIntList(_ key: String) throws -> [Int]? {
        guard has(key) else { return nil }
        if let list = values[key] as? [NSNumber] { return list.map(\.intValue) }
        return [try int(key)]
    }

    /// A list of strings (as `architectures`), if present.
    public func optionalStringList(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        guard let list = values[key] as? [String] else {
            throw ModelIOError.config(file: file, field: key, reason: "expected a list of strings, got \(describe(values[key]))")
        }
        return list
    }

    /// The number of entries of a nested object.
    public var count: Int { values.count }

    /// A nested object, if present.
    public func optionalObject(_ key: String) throws -> JSONConfig? {
        guard has(key) else { return nil }
        guard let dict = values[key] as? [String: Any] else {
            throw ModelIOError.config(file: file, field: key, reason: "expected an object, got \(describe(values[key]))")
        }
        return JSONConfig(file: "\(file) (\(key))", values: dict)
    }

    /// Whether a JSON value is true or false (Foundation bridges numbers to Bool, so `is Bool`
    /// cannot tell 1 from true).
    static func isBoolean(_ value: Any?) -> Bool {
        guard let n = value as? NSNumber else { return false }
        return String(cString: n.objCType) == "c" && (type(of: n) != NSNumber.self)
    }

    private func describe(_ value: Any?) -> String {
        guard let value else { return "nothing" }
        if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed]),
           let text = String(data: data, encoding: .utf8) {
            return String(text.dropFirst().dropLast())
        }
        return "\(value)"
    }
}
