/// A general (non-reasoning) task with a preference a reader can check by eye: answers that are
/// polite and short are preferred over rude or rambling ones. Questions come from templates over
/// small word lists ("What color is a banana?"); each has a one-word answer. Seeded: the same seed
/// gives the same rows. Train and held-out rows use disjoint questions.
///
/// - `prompts`: rows {prompt, kind: "general", answer, completion}, the completion an answer in
///   one of the styles (`styleMix` says how often each; a mediocre source by default, so RL has
///   something to improve);
/// - `pairs`: rows {prompt, chosen, rejected, kind}, chosen polite and short, rejected rude,
///   rambling, or both, with the same answer (the preference is about style only);
/// - `judge`: the rule by eye: 1 when an answer has a polite phrase, no rude one and at most
///   `shortWords` words.
public struct ChatPreferences: Sendable {
    public enum Style: String, CaseIterable, Sendable {
        case politeShort = "polite-short", rude, rambling, rudeRambling = "rude-rambling"
    }

    public static let kind = "general"
    public static let shortWords = 12
    public static let politePhrases = ["Sure!", "Happy to help.", "Good question!", "Thanks for asking.", "Hope that helps!"]
    public static let rudePhrases = ["Ugh.", "Obviously,", "Stop bothering me.", "What a dumb question.", "Go away.", "Figure it out yourself."]
    static let ramble = "Well, let me think about this for a while, because there is a lot to say about it and people ask me this all the time,"
        + " so I want to be careful before I answer."
    static let rambleEnd = "But of course I could be wrong, and it depends on many things, so please check it again later."

    /// (question, answer) for every template and word.
    public static let questions: [(question: String, answer: String)] = {
        var all: [(String, String)] = []
        func a(_ word: String) -> String { "aeiou".contains(word.first ?? "x") ? "an \(word)" : "a \(word)" }
        for (thing, color) in [("banana", "yellow"), ("lemon", "yellow"), ("tomato", "red"), ("strawberry", "red"), ("leaf", "green"),
                               ("frog", "green"), ("cloud", "white"), ("snowball", "white"), ("crow", "black"), ("coal", "black"),
                               ("carrot", "orange"), ("pumpkin", "orange"), ("plum", "purple"), ("grape", "purple"), ("sky", "blue"),
                               ("ocean", "blue")] {
            all.append(("What color is \(a(thing))?", color))
        }
        for (animal, legs) in [("cat", "four"), ("dog", "four"), ("horse", "four"), ("cow", "four"), ("bird", "two"), ("duck", "two"),
                               ("chicken", "two"), ("spider", "eight"), ("ant", "six"), ("bee", "six"), ("snake", "zero"), ("fish", "zero")] {
            all.append(("How many legs does \(a(animal)) have?", legs))
        }
        for (word, opposite) in [("hot", "cold"), ("cold", "hot"), ("big", "small"), ("small", "big"), ("up", "down"), ("down", "up"),
                                 ("fast", "slow"), ("slow", "fast"), ("day", "night"), ("night", "day"), ("open", "closed"), ("wet", "dry"),
                                 ("dry", "wet"), ("old", "new"), ("new", "old"), ("early", "late")] {
            all.append(("What is the opposite of \(word)?", opposite))
        }
        for (animal, sound) in [("dog", "woof"), ("cat", "meow"), ("cow", "moo"), ("duck", "quack"), ("sheep", "baa"), ("owl", "hoot"),
                                ("pig", "oink"), ("bee", "buzz"), ("snake", "hiss"), ("lion", "roar")] {
            all.append(("What sound does \(a(animal)) make?", sound))
        }
        let sizes = ["ant", "mouse", "cat", "dog", "horse", "elephant", "whale"]
        for i in sizes.indices {
            for j in sizes.indices where j > i && j - i <= 3 {
                all.append(("Which is bigger, \(a(sizes[i])) or \(a(sizes[j]))?", sizes[j]))
                all.append(("Which is smaller, \(a(sizes[j])) or \(a(sizes[i]))?", sizes[i]))
            }
        }
        return all
    }()

    /// How often each style is a prompt row's completion (polite-short, rude, rambling, rude-rambling).
    public var styleMix: [Double] = [0.55, 0.15, 0.15, 0.15]

    public init() {}

    /// The question indices of a split: every fourth question is held out.
    static func split(_ name: String) -> [Int] {
        questions.indices.filter { name == "test" ? $0 % 4 == 3 : $0 % 4 != 3 }
    }

    /// An answer to `answer` in `style`, its phrases drawn from `random`.
    public static func reply(_ answer: String, style: Style, using random: inout SeededRandom) -> String {
        let body = random.element(of: ["It is \(answer).", "The answer is \(answer).", "\(answer.prefix(1).uppercased() + answer.dropFirst())."])
        switch style {
        case .politeShort:
            return "\(random.element(of: Array(politePhrases.prefix(4)))) \(body)"
        case .rude:
            return "\(random.element(of: Array(rudePhrases.prefix(4)))) \(body) \(random.element(of: Array(rudePhrases.suffix(2))))"
        case .rambling:
            return "\(random.element(of: Array(politePhrases.prefix(4)))) \(ramble) \(body) \(rambleEnd)"
        case .rudeRambling:
            return "\(random.element(of: Array(rudePhrases.prefix(4)))) \(ramble) \(body) \(rambleEnd) \(random.element(of: Array(rudePhrases.suffix(2))))"
        }
    }

    /// `count` prompt rows of `split` ("train" or "test"), questions cycling in a seeded order.
    public func prompts(count: Int, split: String, seed: UInt64) -> [Row] {
        var random = SeededRandom(seed: seed, stream: split == "test" ? 12 : 11)
        let order = random.shuffled(Self.split(split))
        return (0..<count).map { i in
            let (question, answer) = Self.questions[order[i % order.count]]
            let style = pick(using: &random)
            return Row(prompt: .text(question), columns: ["kind": .string(Self.kind), "answer": .string(answer),
                                                          "completion": .string(Self.reply(answer, style: style, using: &random))])
        }
    }

    /// `count` preference pairs of `split`.
    public func pairs(count: Int, split: String, seed: UInt64) -> [Row] {
        var random = SeededRandom(seed: seed, stream: split == "test" ? 14 : 13)
        let order = random.shuffled(Self.split(split))
        return (0..<count).map { i in
            let (question, answer) = Self.questions[order[i % order.count]]
            let rejected = random.element(of: [Style.rude, .rambling, .rudeRambling])
            return Row(prompt: .text(question), columns: [
                "kind": .string(Self.kind), "chosen": .string(Self.reply(answer, style: .politeShort, using: &random)),
                "rejected": .string(Self.reply(answer, style: rejected, using: &random)),
            ])
        }
    }

    func pick(using random: inout SeededRandom) -> Style {
        let u = Double(random.next() >> 11) / Double(1 << 53)
        var total = 0.0
        for (style, share) in zip(Style.allCases, styleMix) {
            total += share
            if u < total { return style }
        }
        return .politeShort
    }

    /// The rule by eye: 1 for a polite phrase, no rude one and at most `shortWords` words; else 0.
    public static func judge(_ text: String) -> Double {
        let polite = politePhrases.contains { text.contains($0) }, rude = rudePhrases.contains { text.contains($0) }
        return polite && !rude && text.split(whereSeparator: \.isWhitespace).count <= shortWords ? 1 : 0
    }
}
