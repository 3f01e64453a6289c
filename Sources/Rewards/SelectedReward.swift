import Tasks

/// A reward that judges only the rows whose `column` holds `value` (`NAME?column=value` in
/// reward_funcs; `value` may list alternatives, `a|b`), and says cannot-judge (nil) for the others: rule rewards on reasoning rows and a
/// reward model on general ones, in one run (DeepSeek-R1's final stage).
public struct SelectedReward: Reward {
    public let inner: any Reward
    public let column: String
    public let value: String
    public var name: String { "\(inner.name)?\(column)=\(value)" }
    public var weight: Double { inner.weight }

    public init(_ inner: any Reward, column: String, value: String) throws {
        guard !(inner is any ProcessReward) else {
            throw RewardError.invalidOption(reward: inner.name, option: "selector", expected: "an outcome reward (process rewards score steps)",
                                            actual: "?\(column)=\(value)")
        }
        self.inner = inner
        self.column = column
        self.value = value
    }

    /// `spec` split into the reward's name and its selector, when it ends with `?column=value`.
    public static func split(_ spec: String) throws -> (name: String, selector: (column: String, value: String)?) {
        guard let mark = spec.lastIndex(of: "?") else { return (spec, nil) }
        let tail = spec[spec.index(after: mark)...]
        let parts = tail.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !tail.contains(" ") else {
            throw RewardError.invalidOption(reward: spec, option: "selector", expected: "?column=value", actual: "'?\(tail)'")
        }
        return (String(spec[..<mark]), (parts[0], parts[1]))
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        let judged = columns.map { Self.selects(column: column, value: value, $0) }
        let picked = judged.indices.filter { judged[$0] }
        guard !picked.isEmpty else { return completions.map { _ in nil } }
        let scores = try inner.score(completions: picked.map { completions[$0] }, columns: picked.map { columns[$0] })
        guard scores.count == picked.count else {
            throw RewardError.wrongScoreCount(reward: inner.name, expected: picked.count, actual: scores.count)
        }
        var out = [Double?](repeating: nil, count: completions.count)
        for (i, s) in zip(picked, scores) { out[i] = s }
        return out
    }

    /// Whether a row's `column` holds `value` or one of its `a|b` alternatives.
    public static func selects(column: String, value: String, _ columns: [String: JSONValue]) -> Bool {
        let accepted = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return text(columns[column]).map(accepted.contains) ?? false
    }

    /// A column's value as the text a selector compares (strings as is, numbers and booleans as JSON writes them).
    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): String(b)
        case .double(let d): String(d)
        default: nil
        }
    }
}
