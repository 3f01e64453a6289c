/// reasoning-gym's `score_answer` for its arithmetic datasets, reduced to its verdict: whether the score
/// is 1.0. Each case is the scorer of the datasets named in `datasets` (reasoning-gym 0.1.25); the
/// answer given is the one already extracted from a completion (`ReasoningGymAnswer.extract`).
///
/// - `exact` (`ProceduralDataset.score_answer`, which `basic_arithmetic` inherits): 1.0 only when the
///   answer equals the oracle string code point for code point ("42.0", "+42" and "1,000" are wrong).
/// - `decimal` (`chain_sum`: `utils.compute_decimal_reward` with commas stripped): 1.0 when
///   `Decimal(answer) == Decimal(oracle)` after removing every ",". Python's `Decimal` reads surrounding
///   whitespace, a sign, "_" anywhere, any Unicode decimal digits and an exponent, so "+01,000.00",
///   " 1_000 " and "1e3" all equal "1000". (Its other branch, `len(oracle) / len(answer)` when the
///   oracle is a substring, reaches 1.0 only for equal strings, which `Decimal` already accepted.)
/// - `firstNumber` (`gsm_symbolic`): the first match of `\b-?\d+(?:\.\d+)?\b` in the answer, as a float,
///   equals `float(oracle)`. The `\b` before "-" needs a word character before it, so "-5" reads as 5.
public enum ReasoningGymScorer: String, CaseIterable, Sendable {
    case exact
    case decimal
    case firstNumber

    /// The reasoning-gym datasets each scorer belongs to, by their `source_dataset` names.
    public var datasets: [String] {
        switch self {
        case .exact: ["basic_arithmetic"]
        case .decimal: ["chain_sum"]
        case .firstNumber: ["gsm_symbolic"]
        }
    }

    /// The scorer of a reasoning-gym dataset; nil when it is not one of ours.
    public init?(dataset: String) {
        guard let scorer = Self.allCases.first(where: { $0.datasets.contains(dataset) }) else { return nil }
        self = scorer
    }

    /// Whether reasoning-gym scores `answer` 1.0 against `oracle`; a nil or empty answer never is.
    public func isCorrect(answer: String?, oracle: String) -> Bool {
        guard let answer, !answer.isEmpty else { return false }
        switch self {
        case .exact:
            return Array(answer.unicodeScalars) == Array(oracle.unicodeScalars)
        case .decimal:
            let withoutCommas = { (text: String) in String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "," })) }
            guard let given = PythonDecimal(withoutCommas(answer)), let expected = PythonDecimal(withoutCommas(oracle)) else { return false }
            return given == expected
        case .firstNumber:
            guard let match = Self.firstNumber(in: answer), let given = Double(match), let expected = PythonDecimal.float(oracle) else { return false }
            return given == expected
        }
    }

    /// The first match of Python's `\b-?\d+(?:\.\d+)?\b` (Unicode `\d` and `\w`), its digits made ASCII.
    static func firstNumber(in text: String) -> String? {
        let s = Array(text.unicodeScalars)
        func isDigit(_ i: Int) -> Bool { i < s.count && s[i].properties.generalCategory == .decimalNumber }
        func isWord(_ i: Int) -> Bool { i >= 0 && i < s.count && s[i].isPythonWordCharacter }
        func isBoundary(_ i: Int) -> Bool { isWord(i - 1) != isWord(i) }
        func digitRun(from i: Int) -> Int { var j = i; while isDigit(j) { j += 1 }; return j - i }
        func matched(_ range: Range<Int>) -> String { String(s[range].map { $0.properties.numericType == .decimal ? Character("\(Int($0.properties.numericValue!))") : Character($0) }) }
        for start in s.indices where isBoundary(start) {
            // -? is greedy: with the sign first, then without (where \d+ must start at `start`).
            for digitsStart in (s[start] == "-" ? [start + 1, start] : [start]) {
                let longest = digitRun(from: digitsStart)
                // \d+ backtracks from its longest run; only the longest can be followed by ".digits".
                for length in stride(from: longest, through: 1, by: -1) {
                    let end = digitsStart + length
                    if length == longest, end < s.count, s[end] == ".", case let fraction = digitRun(from: end + 1), fraction > 0 {
                        for fractionLength in stride(from: fraction, through: 1, by: -1) where isBoundary(end + 1 + fractionLength) {
                            return matched(start..<(end + 1 + fractionLength))
                        }
                    }
                    if isBoundary(end) { return matched(start..<end) }
                }
            }
        }
        return nil
    }
}

extension Unicode.Scalar {
    /// Python's `\w` in a str pattern: `str.isalnum()` (letters, and characters with a numeric value) or "_".
    var isPythonWordCharacter: Bool {
        if self == "_" { return true }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber: return true
        default: return properties.numericType != nil
        }
    }

    /// Python's `str.isspace()`: Unicode white space, and the separators U+001C...U+001F.
    var isPythonWhitespace: Bool {
        properties.isWhitespace || (0x1C...0x1F).contains(value)
    }
}

extension String {
    /// The text without leading and trailing whitespace as Python's `str.strip()` sees it.
    func pythonStripped() -> String {
        let scalars = Array(unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.isPythonWhitespace }),
              let last = scalars.lastIndex(where: { !$0.isPythonWhitespace }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
