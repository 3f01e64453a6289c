/// One `key: value` as a config file or `--set` gave it, with where it came from (for errors).
public struct SettingEntry: Sendable, Equatable {
    public var key: String
    public var value: SettingValue
    /// The file path, or "--set".
    public var source: String

    public init(_ key: String, _ value: SettingValue, source: String) {
        self.key = key
        self.value = value
        self.source = source
    }
}

/// A trainer's settings: a struct whose properties hold the defaults, and the keys that name them.
public protocol Configurable {
    /// Every key, in the order `--help` and `--print-config` show them.
    static var keys: [SettingKey<Self>] { get }
    /// The defaults.
    init()
    /// Rules across keys (throw `InvalidSetting`).
    func validate() throws
}

extension Configurable {
    /// The defaults with `entries` applied in order (later ones win), then validated.
    /// `readFrom` names the settings files read (even one that gave no entries), for the error of a
    /// key left unset.
    public static func resolve(_ entries: [SettingEntry], readFrom: [String] = []) throws -> Self {
        var settings = Self()
        var sources: [String: String] = [:]
        let byName = Dictionary(keys.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in entries {
            guard let key = byName[entry.key] else {
                throw SettingsError.unknownKey(source: entry.source, key: entry.key, suggestion: closestKey(to: entry.key))
            }
            if let reason = key.assign(&settings, entry.value) {
                throw SettingsError.badValue(source: entry.source, key: entry.key, reason: reason)
            }
            sources[entry.key] = entry.source
        }
        // A key left unset is named with where the settings came from (a file a key is missing from).
        var origins = readFrom
        for entry in entries where !origins.contains(entry.source) { origins.append(entry.source) }
        try settings.check(sources: sources, fallback: origins.isEmpty ? "settings" : origins.joined(separator: ", "))
        return settings
    }

    /// Checks every key's rule (defaults and keys left unset included: a required path) and the
    /// rules across keys; errors name the key and where it was set (`sources`, else `fallback`).
    public func check(sources: [String: String] = [:], fallback: String = "settings") throws {
        for key in Self.keys {
            if let reason = key.check(self) { throw SettingsError.badValue(source: sources[key.name] ?? fallback, key: key.name, reason: reason) }
        }
        do { try validate() } catch let error as InvalidSetting {
            throw SettingsError.invalid(source: sources[error.key] ?? fallback, key: error.key, reason: error.reason)
        }
    }

    /// Overrides written `key=value` in code (values as YAML scalars would read), e.g. for a
    /// recipe's fixed paths: `resolve(overrides: ["max_steps=10"])`.
    public static func resolve(overrides: [String: SettingValue], source: String = "code") throws -> Self {
        try resolve(overrides.sorted { $0.key < $1.key }.map { SettingEntry($0.key, $0.value, source: source) })
    }

    /// Every key and its value, in key order (feeds `--print-config` and trainer_state.json).
    public var entries: [(key: String, value: SettingValue)] {
        Self.keys.map { ($0.name, $0.read(self)) }
    }

    /// The settings as YAML that `resolve` reads back to the same values.
    public var yaml: String {
        entries.map { "\($0.key): \($0.value)" }.joined(separator: "\n") + "\n"
    }

    /// One line per key: name, expected value, default and help (for `--help`).
    public static var documentation: String {
        let defaults = Self()
        return keys.map { key in "  \(key.name) (\(key.expected); default \(key.read(defaults))): \(key.help)" }
            .joined(separator: "\n")
    }

    /// The valid key nearest by edit distance, if reasonably near.
    static func closestKey(to name: String) -> String? {
        let scored = keys.map { ($0.name, editDistance(name, $0.name)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, name.count / 2) else { return nil }
        return best
    }
}

/// Levenshtein distance between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
