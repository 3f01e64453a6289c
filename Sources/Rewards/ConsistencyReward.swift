import Tasks

/// DeepSeek-R1's language-consistency reward, for arithmetic reasoning: the share of the
/// completion's characters (the R1 tags and whitespace removed) that belong to the reasoning's
/// alphabet, digits and `+ - * / = ( ) . ,` by default. A completion that slips into words (as R1's
/// drifted into mixed languages) scores below 1; an empty one scores 0.
public struct ConsistencyReward: Reward {
    public var name: String
    public var weight: Double
    public var alphabet: Set<Character>

    public static let arithmetic = Set("0123456789+-*/=().,")

    public init(name: String = "consistency", weight: Double = 1, alphabet: Set<Character> = Self.arithmetic) {
        self.name = name
        self.weight = weight
        self.alphabet = alphabet
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreEach(completions, columns) { completion, _ in Self.share(completion, alphabet: alphabet) }
    }

    /// The share of `text`'s characters outside tags and whitespace that are in `alphabet`.
    public static func share(_ text: String, alphabet: Set<Character>) -> Double {
        var stripped = text
        for tag in FormatReward.tags { stripped = stripped.replacingOccurrences(of: tag, with: " ") }
        let characters = stripped.filter { !$0.isWhitespace }
        guard !characters.isEmpty else { return 0 }
        return Double(characters.filter { alphabet.contains($0) }.count) / Double(characters.count)
    }
}
