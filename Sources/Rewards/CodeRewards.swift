import Foundation
import Sandbox
import Tasks

/// Code-execution rewards: the completion's last fenced Python block (```python ... ```, or a bare
/// ``` fence) run in the sandbox, against the row's tests. Test forms, by column:
///
/// - `tests`: a list of {"input": ..., "output": ...} stdin/stdout cases, each run on its own and
///   passed when the printed lines equal the expected ones (trailing whitespace of each line and
///   trailing blank lines ignored), as competitive-programming judges compare;
/// - `tests`: a list of assert statements (strings), run after the code in one program, each in
///   its own try block: the fraction that pass;
/// - `test` + `entry_point` (HumanEval): the code, the row's `check` function, then
///   `check(<entry_point>)`: 1 if it runs to the end, else 0.
///
/// `code_runs` scores 1 when the block runs to completion (exit 0) under the limits, else 0;
/// `code_tests` the fraction of the row's tests passed; `code_tests_binary` 1 only if all pass. No
/// code block scores 0; a row without tests scores nil for the test rewards. Every program of a
/// batch runs in `Sandbox.runBatch`: a fork per program inside a few isolated containers.
public struct CodeReward: Reward {
    public enum Kind: String, Sendable {
        case runs = "code_runs", tests = "code_tests", testsBinary = "code_tests_binary"
    }

    public let kind: Kind
    public let weight: Double
    let sandbox: Sandbox
    public var name: String { kind.rawValue }

    public init(_ kind: Kind, weight: Double = 1, sandbox: Sandbox) {
        self.kind = kind
        self.weight = weight
        self.sandbox = sandbox
    }

    public func score(completions: [String], columns: [[String: JSONValue]]) throws -> [Double?] {
        guard completions.count == columns.count else {
            throw RewardError.columnCountMismatch(reward: name, completions: completions.count, columns: columns.count)
        }
        // One marker for the batch, so equal completions of a row make equal programs (run once).
        let marker = CodeTests.nonce()
        let plans = zip(completions, columns).map { completion, row in
            CodeTests.plan(completion: completion, row: row, kind: kind, marker: marker)
        }
        let results = sandbox.runBatch(plans.flatMap(\.jobs))
        var offset = 0
        return plans.map { plan in
            defer { offset += plan.jobs.count }
            return plan.score(Array(results[offset..<(offset + plan.jobs.count)]))
        }
    }
}

/// How a completion's code is tested and scored.
public enum CodeTests {
    /// The last fenced code block (```python or a bare ```), or nil.
    public static func lastCodeBlock(in text: String) -> String? {
        let pattern = try? NSRegularExpression(pattern: "```(?:python|py|python3)?[ \\t]*\\n(.*?)```", options: [.dotMatchesLineSeparators])
        let ns = text as NSString
        guard let match = pattern?.matches(in: text, range: NSRange(location: 0, length: ns.length)).last else { return nil }
        return ns.substring(with: match.range(at: 1))
    }

    /// The programs a completion needs and how their results make its score.
    public struct Plan: Sendable {
        public var jobs: [(program: String, stdin: String)]
        let score: @Sendable ([SandboxResult]) -> Double?
    }

    /// Lines as a judge compares them: trailing whitespace of each line and trailing blank lines dropped.
    public static func normalizedLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    /// A fresh random marker for a harness's result line (the program cannot print it by chance).
    static func nonce() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "") }

    /// The program of a completion: its last code block; for a HumanEval row (`test`, `entry_point`),
    /// a block that does not define the entry point, or a completion without a block, continues the
    /// row's `prompt` (the function's signature and docstring), as HumanEval's own harness builds it.
    public static func program(completion: String, row: [String: JSONValue]) -> String? {
        let block = lastCodeBlock(in: completion)
        guard let entry = row["entry_point"]?.stringValue, row["test"] != nil, let prompt = row["prompt"]?.stringValue else { return block }
        if let block, block.contains("def \(entry)(") { return prompt + "\n" + block }
        return prompt + (block ?? completion)
    }

    /// How `completion` is run and scored; `marker` starts the assert harness's result line.
    public static func plan(completion: String, row: [String: JSONValue], kind: CodeReward.Kind, marker: String) -> Plan {
        guard let code = program(completion: completion, row: row) else { return Plan(jobs: []) { _ in 0 } }
        if kind == .runs { return Plan(jobs: [(code, "")]) { $0.first?.succeeded == true ? 1 : 0 } }
        let binary = kind == .testsBinary
        @Sendable func fraction(_ passed: Int, _ total: Int) -> Double { binary ? (passed == total ? 1 : 0) : Double(passed) / Double(max(total, 1)) }
        if let cases = row["tests"]?.arrayValue, !cases.isEmpty, cases.allSatisfy({ $0.objectValue != nil }) {
            let pairs = cases.map { ($0.objectValue?["input"]?.stringValue ?? "", $0.objectValue?["output"]?.stringValue ?? "") }
            return Plan(jobs: pairs.map { (code, $0.0) }) { results in
                let passed = zip(results, pairs).filter { result, pair in
                    result.succeeded && normalizedLines(result.stdout) == normalizedLines(pair.1)
                }.count
                return fraction(passed, pairs.count)
            }
        }
        if let asserts = row["tests"]?.arrayValue?.compactMap(\.stringValue), !asserts.isEmpty {
            let literal = asserts.map { "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
                .replacingOccurrences(of: "\n", with: "\\n") + "'" }.joined(separator: ", ")
            let harness = code + "\n\n" + """
                _grpo_passed = 0
                for _grpo_test in [\(literal)]:
                    try:
                        exec(_grpo_test, globals())
                        _grpo_passed += 1
                    except BaseException:
                        pass
                print("\\n\(marker) " + str(_grpo_passed))
                """
            return Plan(jobs: [(harness, "")]) { results in
                let line = results.first?.stdout.split(separator: "\n").last { $0.hasPrefix(marker) }
                let passed = line.flatMap { Int($0.dropFirst(marker.count + 1)) } ?? 0
                return fraction(min(passed, asserts.count), asserts.count)
            }
        }
        if let test = row["test"]?.stringValue, let entry = row["entry_point"]?.stringValue {
            return Plan(jobs: [(code + "\n\n" + test + "\n\ncheck(\(entry))\n", "")]) { $0.first?.succeeded == true ? 1 : 0 }
        }
        return Plan(jobs: []) { _ in nil }
    }
}

/// Verifiers that run code, beside `Tasks.Verifiers`: `code` (every test of the row passes: its
/// `tests`, or HumanEval's `test` and `entry_point`) and `code_runs` (the code block runs to the end).
public enum AnswerVerifiers {
    public static let names = Verifiers.names + ["code", "code_runs"]

    public static func named(_ name: String) throws -> Verifier {
        switch name {
        case "code": return code(.testsBinary, sandbox: try SharedSandbox.get())
        case "code_runs": return code(.runs, sandbox: try SharedSandbox.get())
        default: return try Verifiers.named(name)
        }
    }

    /// A reward of 1 as a verdict, run over a whole batch at once.
    public static func code(_ kind: CodeReward.Kind, sandbox: Sandbox) -> Verifier {
        let reward = CodeReward(kind, sandbox: sandbox)
        let batch: @Sendable ([String], [[String: JSONValue]]) -> [Bool?] = { completions, columns in
            ((try? reward.score(completions: completions, columns: columns)) ?? completions.map { _ in nil }).map { $0.map { $0 == 1 } }
        }
        return Verifier(name: kind == .runs ? "code_runs" : "code", check: { batch([$0], [$1])[0] },
                        finalAnswer: { CodeTests.lastCodeBlock(in: $0) }, checkBatch: batch)
    }
}
