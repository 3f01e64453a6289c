/// Typed metadata accessors whose errors name the file, the key, and what was found.
extension GGUFFile {
    private func mismatch(_ key: String, _ expected: String, _ value: GGUFValue) -> ModelIOError {
        .config(file: url.path, field: key, reason: "expected \(expected), got \(value.summary)")
    }

    private func missing(_ key: String) -> ModelIOError { .config(file: url.path, field: key, reason: "missing") }

    public func optionalString(_ key: String) throws -> String? {
        guard let value = metadata[key] else { return nil }
        guard let s = value.string else { throw mismatch(key, "a string", value) }
        return s
    }

    public func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw missing(key) }
        return s
    }

    /// An integer of any width that fits in `Int`.
    public func optionalInt(_ key: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let n = value.int else { throw mismatch(key, "an integer", value) }
        return n
    }

    public func int(_ key: String) throws -> Int {
        guard let n = try optionalInt(key) else { throw missing(key) }
        return n
    }

    /// A finite float (or an integer) as Double.
    public func optionalDouble(_ key: String) throws -> Double? {
        guard let value = metadata[key] else { return nil }
        guard let x = value.double, x.isFinite else { throw mismatch(key, "a finite number", value) }
        return x
    }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let b = value.bool else { throw mismatch(key, "a BOOL", value) }
        return b
    }

    /// An array whose elements all convert with `element`.
    private func optionalArray<T>(_ key: String, _ expected: String, _ element: (GGUFValue) -> T?) throws -> [T]? {
        guard let value = metadata[key] else { return nil }
        guard let items = value.array else { throw mismatch(key, "an array of \(expected)", value) }
        var out: [T] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let x = element(item) else {
                throw ModelIOError.config(file: url.path, field: key, reason: "element \(i): expected \(expected), got \(item.summary)")
            }
            out.append(x)
        }
        return out
    }

    public func optionalStringArray(_ key: String) throws -> [String]? { try optionalArray(key, "strings") { $0.string } }
    public func optionalIntArray(_ key: String) throws -> [Int]? { try optionalArray(key, "integers") { $0.int } }
    public func optionalFloatArray(_ key: String) throws -> [Float]? {
        try optionalArray(key, "numbers") { $0.double.map(Float.init) }
    }
}
