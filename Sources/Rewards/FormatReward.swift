import Foundation
import Tasks

/// The DeepSeek-R1 template: 1.0 when the completion is `<think>...</think>` then `<answer>...</answer>`
/// and nothing else (whitespace allowed around and between the blocks, each tag exactly once), else 0.0.
///
/// The soft variant gives partial credit so a small model has a gradient toward the template: 1.0 for the
/// full template, else 0.2 for each of the four tags that appears exactly once (at most 0.8, so only the
/// template itself earns 1).
public struct FormatReward: Reward {
    public var name: String
    public var weight: Double
    public var soft: Bool

    public init(name: String? = nil, weight: Double = 1, soft: Bool = false) {
        self.name = name ?? (soft ? "soft_format" : "format")
        self.weight = weight
        self.soft = soft
    }

    static let tags = ["<think>", "</think>", "<answer>", "</answer>"]

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        try scoreEach(completions, columns) { completion, _ in
            if Self.matchesTemplate(completion) { return 1 }
            guard soft else { return 0 }
            return 0.2 * Double(Self.tags.filter { completion.occurrences(of: $0) == 1 }.count)
        }
    }

    /// Whether the text is exactly think block, answer block, with only whitespace around and between.
    public static func matchesTemplate(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard tags.allSatisfy({ t.occurrences(of: $0) == 1 }), t.hasPrefix("<think>"), t.hasSuffix("</answer>"),
              let thinkEnd = t.range(of: "</think>"), let answerStart = t.range(of: "<answer>"),
              thinkEnd.upperBound <= answerStart.lowerBound else { return false }
        return t[thinkEnd.upperBound..<answerStart.lowerBound].allSatisfy(\.isWhitespace)
    }
}

extension String {
    /// How many times `needle` occurs, without overlaps.
    func occurrences(of needle: String) -> Int {
        components(separatedBy: needle).count - 1
    }
}
