/// Small Python function tasks a tiny model can learn from scratch: `f(x)` applies one or two
/// operations from a grammar of integer, list and string operations to `x` (an integer, a list of
/// integers, or a string). Each problem has a natural-language statement, a reference solution (a
/// fenced Python block) and hidden tests (assert statements, in the row's `tests` column), computed
/// here with Python's semantics (floor division and modulo, slicing, sorted, str methods).
///
///     "Write a Python function f(x) that takes a list of integers x, adds 3 to each element, then
///      returns the sum."
///     ```python
///     def f(x):
///         x = [v + 3 for v in x]
///         return sum(x)
///     ```
///     tests: ["assert f([1, -2]) == 5", ...]
public struct CodeTask: TaskGenerator {
    public static let name = "code"
    public var name: String { Self.name }
    /// Operations per function, drawn uniformly.
    public let steps: ClosedRange<Int>
    /// Hidden tests per problem.
    public let testCount: Int

    public init(steps: ClosedRange<Int> = 1...2, testCount: Int = 5) throws {
        guard steps.lowerBound >= 1, steps.upperBound <= 3 else {
            throw TaskError.invalidOption(task: Self.name, option: "steps", expected: "a range within 1...3", actual: "\(steps)")
        }
        guard (1...20).contains(testCount) else {
            throw TaskError.invalidOption(task: Self.name, option: "tests", expected: "1...20", actual: "\(testCount)")
        }
        self.steps = steps
        self.testCount = testCount
    }

    /// All tests pass (run in the sandbox by the code rewards; `Verifiers` cannot run code).
    public var answerVerifier: Verifier { Verifiers.none }

    /// A value of the grammar: what x holds between operations.
    enum Value: Equatable {
        case int(Int), list([Int]), string(String)

        var kind: Kind {
            switch self {
            case .int: .int
            case .list: .list
            case .string: .string
            }
        }

        /// As a Python literal.
        var python: String {
            switch self {
            case .int(let v): "\(v)"
            case .list(let v): "[" + v.map(String.init).joined(separator: ", ") + "]"
            case .string(let s): "'" + s + "'"
            }
        }
    }

    enum Kind: CaseIterable {
        case int, list, string

        var noun: String {
            switch self {
            case .int: "an integer"
            case .list: "a list of integers"
            case .string: "a string"
            }
        }
    }

    /// One operation: its input and output kinds, its sentence, its Python line, and its meaning.
    struct Operation {
        let input: Kind, output: Kind
        let phrase: String
        /// The expression computing the new x from x.
        let python: String
        let apply: (Value) -> Value?
    }

    static func pyFloorDiv(_ a: Int, _ b: Int) -> Int { Int((Double(a) / Double(b)).rounded(.down)) }
    static func pyMod(_ a: Int, _ b: Int) -> Int { a - b * pyFloorDiv(a, b) }

    /// The grammar, with the constant k of this draw.
    static func operations(k: Int, letter: Character, other: Character) -> [Operation] {
        func ints(_ f: @escaping (Int) -> Int) -> (Value) -> Value? { { if case .int(let v) = $0 { .int(f(v)) } else { nil } } }
        func lists(_ f: @escaping ([Int]) -> [Int]) -> (Value) -> Value? { { if case .list(let v) = $0 { .list(f(v)) } else { nil } } }
        func listToInt(_ f: @escaping ([Int]) -> Int?) -> (Value) -> Value? { { if case .list(let v) = $0 { f(v).map { .int($0) } } else { nil } } }
        func strings(_ f: @escaping (String) -> String) -> (Value) -> Value? { { if case .string(let v) = $0 { .string(f(v)) } else { nil } } }
        func stringToInt(_ f: @escaping (String) -> Int) -> (Value) -> Value? { { if case .string(let v) = $0 { .int(f(v)) } else { nil } } }
        return [
            Operation(input: .int, output: .int, phrase: "adds \(k) to it", python: "x + \(k)", apply: ints { $0 + k }),
            Operation(input: .int, output: .int, phrase: "multiplies it by \(k)", python: "x * \(k)", apply: ints { $0 * k }),
            Operation(input: .int, output: .int, phrase: "subtracts \(k) from it", python: "x - \(k)", apply: ints { $0 - k }),
            Operation(input: .int, output: .int, phrase: "squares it", python: "x * x", apply: ints { $0 * $0 }),
            Operation(input: .int, output: .int, phrase: "takes its remainder modulo \(k)", python: "x % \(k)", apply: ints { pyMod($0, k) }),
            Operation(input: .int, output: .int, phrase: "floor-divides it by \(k)", python: "x // \(k)", apply: ints { pyFloorDiv($0, k) }),
            Operation(input: .int, output: .int, phrase: "negates it", python: "-x", apply: ints { -$0 }),
            Operation(input: .int, output: .int, phrase: "takes its absolute value", python: "abs(x)", apply: ints { abs($0) }),
            Operation(input: .int, output: .int, phrase: "takes the smaller of it and \(k)", python: "min(x, \(k))", apply: ints { min($0, k) }),
            Operation(input: .int, output: .int, phrase: "takes the larger of it and \(k)", python: "max(x, \(k))", apply: ints { max($0, k) }),
            Operation(input: .list, output: .list, phrase: "adds \(k) to each element", python: "[v + \(k) for v in x]", apply: lists { $0.map { $0 + k } }),
            Operation(input: .list, output: .list, phrase: "multiplies each element by \(k)", python: "[v * \(k) for v in x]",
                      apply: lists { $0.map { $0 * k } }),
            Operation(input: .list, output: .list, phrase: "reverses it", python: "x[::-1]", apply: lists { $0.reversed() }),
            Operation(input: .list, output: .list, phrase: "sorts it", python: "sorted(x)", apply: lists { $0.sorted() }),
            Operation(input: .list, output: .list, phrase: "keeps the even elements", python: "[v for v in x if v % 2 == 0]",
                      apply: lists { $0.filter { pyMod($0, 2) == 0 } }),
            Operation(input: .list, output: .list, phrase: "keeps the elements greater than \(k)", python: "[v for v in x if v > \(k)]",
                      apply: lists { $0.filter { $0 > k } }),
            Operation(input: .list, output: .list, phrase: "subtracts \(k) from each element", python: "[v - \(k) for v in x]",
                      apply: lists { $0.map { $0 - k } }),
            Operation(input: .list, output: .list, phrase: "keeps the odd elements", python: "[v for v in x if v % 2 == 1]",
                      apply: lists { $0.filter { pyMod($0, 2) == 1 } }),
            Operation(input: .list, output: .int, phrase: "returns how many elements equal \(k)", python: "x.count(\(k))",
                      apply: listToInt { $0.filter { $0 == k }.count }),
            Operation(input: .list, output: .int, phrase: "returns the sum", python: "sum(x)", apply: listToInt { $0.reduce(0, +) }),
            Operation(input: .list, output: .int, phrase: "returns the length", python: "len(x)", apply: listToInt { $0.count }),
            Operation(input: .list, output: .int, phrase: "returns the largest element", python: "max(x)", apply: listToInt { $0.max() }),
            Operation(input: .list, output: .int, phrase: "returns the smallest element", python: "min(x)", apply: listToInt { $0.min() }),
            Operation(input: .list, output: .int, phrase: "returns the sum of the squares", python: "sum(v * v for v in x)",
                      apply: listToInt { $0.reduce(0) { $0 + $1 * $1 } }),
            Operation(input: .string, output: .string, phrase: "converts it to upper case", python: "x.upper()", apply: strings { $0.uppercased() }),
            Operation(input: .string, output: .string, phrase: "reverses it", python: "x[::-1]", apply: strings { String($0.reversed()) }),
            Operation(input: .string, output: .string, phrase: "keeps its first \(k) characters", python: "x[:\(k)]",
                      apply: strings { String($0.prefix(k)) }),
            Operation(input: .string, output: .string, phrase: "repeats it twice", python: "x + x", apply: strings { $0 + $0 }),
            Operation(input: .string, output: .string, phrase: "replaces each '\(letter)' with '\(other)'", python: "x.replace('\(letter)', '\(other)')",
                      apply: strings { $0.replacingOccurrences(of: String(letter), with: String(other)) }),
            Operation(input: .string, output: .string, phrase: "keeps its last \(k) characters", python: "x[-\(k):]",
                      apply: strings { String($0.suffix(k)) }),
            Operation(input: .string, output: .int, phrase: "returns the length", python: "len(x)", apply: stringToInt { $0.count }),
            Operation(input: .string, output: .int, phrase: "returns the number of '\(letter)' characters", python: "x.count('\(letter)')",
                      apply: stringToInt { s in s.filter { $0 == letter }.count }),
            Operation(input: .string, output: .int, phrase: "returns the number of vowels", python: "sum(1 for c in x if c in 'aeiou')",
                      apply: stringToInt { s in s.filter { "aeiou".contains($0) }.count }),
        ]
    }

    static let letters = Array("abcdefghio")

    func input(_ kind: Kind, using random: inout SeededRandom) -> Value {
        switch kind {
        case .int: .int(random.int(in: -20...20))
        case .list: .list((0..<random.int(in: 1...6)).map { _ in random.int(in: -9...9) })
        case .string: .string(String((0..<random.int(in: 1...8)).map { _ in random.element(of: Self.letters) }))
        }
    }

    public func problem(using random: inout SeededRandom) throws -> Problem {
        for _ in 0..<1000 {
            let k = random.int(in: 1...9), letter = random.element(of: Self.letters)
            let other = random.element(of: Self.letters.filter { $0 != letter })
            let grammar = Self.operations(k: k, letter: letter, other: other)
            let start = random.element(of: Kind.allCases)
            var chain: [Operation] = [], kind = start
            for _ in 0..<random.int(in: steps) {
                let choices = grammar.filter { $0.input == kind }
                let op = random.element(of: choices)
                chain.append(op)
                kind = op.output
            }
            // Draw inputs whose every step is defined (max/min of an empty list is not).
            var tests: [String] = []
            for _ in 0..<(testCount * 4) where tests.count < testCount {
                let x = input(start, using: &random)
                guard let out = chain.reduce(Optional(x), { value, op in value.flatMap(op.apply) }) else { continue }
                let test = "assert f(\(x.python)) == \(out.python)"
                if !tests.contains(test) { tests.append(test) }
            }
            guard tests.count == testCount else { continue }
            let phrases = chain.map(\.phrase)
            let statement = "Write a Python function f(x) that takes \(start.noun) x, " + phrases.joined(separator: ", then ")
                + (chain.last?.output == start && !(phrases.last ?? "").hasPrefix("returns") ? ", and returns the result." : ".")
            let body = chain.dropLast().map { "    x = \($0.python)" } + ["    return \(chain.last?.python ?? "x")"]
            let code = "```python\ndef f(x):\n" + body.joined(separator: "\n") + "\n```"
            return Problem(key: statement, barePrompt: statement, question: statement, answer: code,
                           working: phrases.joined(separator: ", then "), columns: ["tests": .array(tests.map { .string($0) })])
        }
        throw TaskError.invalidOption(task: Self.name, option: "steps", expected: "operations with defined tests", actual: "\(steps)")
    }
}
