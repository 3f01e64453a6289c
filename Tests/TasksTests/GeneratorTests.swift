@testable import Tasks
import XCTest

final class GeneratorTests: XCTestCase {
    func testSeededRandomIsFixedAndStreamsDiffer() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7), c = SeededRandom(seed: 7, stream: 1)
        let first = (0..<5).map { _ in a.next() }
        XCTAssertEqual(first, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<5).map { _ in c.next() })
        var d = SeededRandom(seed: 1)
        let draws = (0..<10_000).map { _ in d.int(in: 3...5) }
        XCTAssertEqual(Set(draws), [3, 4, 5])
        // A fixed value pins the generator across platforms and versions: changing it changes every dataset.
        XCTAssertEqual(SeededRandom(seed: 0).state, 0xE220_A839_7B1D_CDAF)
    }

    func testArithmeticProblems() throws {
        let task = try ArithmeticTask(digits: 3, operations: [.add])
        var random = SeededRandom(seed: 1)
        for _ in 0..<200 {
            let p = task.problem(using: &random)
            let parts = p.key.split(separator: "+").map { Int($0)! }
            XCTAssertTrue(parts.allSatisfy { (100...999).contains($0) }, p.key)
            XCTAssertEqual(p.answer, "\(parts[0] + parts[1])")
            XCTAssertEqual(p.barePrompt, p.key + "=")
        }
        XCTAssertEqual(try ArithmeticTask(digits: 1).operandRange, 0...9)
        let mixed = try ArithmeticTask(digits: 2, operations: [.subtract, .multiply])
        var r2 = SeededRandom(seed: 2)
        let answers = (0..<100).map { _ in mixed.problem(using: &r2) }
        for p in answers {
            XCTAssertEqual(try ExpressionParser().evaluate(p.key), Rational(Int(p.answer)!), p.key)
        }
        XCTAssertTrue(answers.contains { $0.key.contains("*") } && answers.contains { $0.key.contains("-") })
    }

    func testCountdownProblemsAreSolvableByTheirOwnAnswer() throws {
        for exactly in [false, true] {
            let task = try CountdownTask(useEachNumberExactlyOnce: exactly)
            var random = SeededRandom(seed: 3)
            for _ in 0..<300 {
                let p = try task.problem(using: &random)
                let (numbers, target) = try XCTUnwrap(CountdownTask.numbersAndTarget(p.columns))
                XCTAssertTrue((3...4).contains(numbers.count) && numbers.allSatisfy { (1...100).contains($0) })
                XCTAssertTrue((1...1000).contains(target))
                XCTAssertEqual(task.verifier.check(expression: p.answer, numbers: numbers, target: target), .correct,
                               "\(p.answer) over \(numbers) -> \(target)")
            }
        }
    }

    func testSameSeedSameDataAndSplitsDisjoint() throws {
        for task in [try BuiltinTasks.make("arithmetic"), try BuiltinTasks.make("countdown")] {
            let a = try makeDataset(task: task, train: 500, test: 100, seed: 42, format: .r1)
            let b = try makeDataset(task: task, train: 500, test: 100, seed: 42, format: .r1)
            XCTAssertEqual(a.train, b.train, task.name)
            XCTAssertEqual(a.test, b.test, task.name)
            let other = try makeDataset(task: task, train: 10, test: 100, seed: 43, format: .r1)
            XCTAssertNotEqual(a.test, other.test, "\(task.name): another seed, other data")
            let fewerTrain = try makeDataset(task: task, train: 10, test: 100, seed: 42, format: .r1)
            XCTAssertEqual(fewerTrain.test, a.test, "\(task.name): the test split depends only on the seed")

            let trainPrompts = Set(a.train.map(\.prompt)), testPrompts = Set(a.test.map(\.prompt))
            XCTAssertEqual(trainPrompts.count, 500, "\(task.name): train rows are distinct")
            XCTAssertEqual(testPrompts.count, 100)
            XCTAssertTrue(trainPrompts.isDisjoint(with: testPrompts), "\(task.name): train and test overlap")
        }
    }

    func testCountdownSplitsAreDisjointByProblemNotJustPrompt() throws {
        // The key is the sorted numbers and the target, so a reordering of a test problem stays out of train.
        let task = try CountdownTask(numberCount: 3...3, maxNumber: 6, maxTarget: 20)
        let data = try makeDataset(task: task, train: 100, test: 50, seed: 5, format: .plain)
        func key(_ row: Row) -> String {
            let (numbers, target) = CountdownTask.numbersAndTarget(row.columns)!
            return "\(numbers.sorted())->\(target)"
        }
        XCTAssertTrue(Set(data.train.map(key)).isDisjoint(with: Set(data.test.map(key))))
    }

    func testTargetCompletionsVerifyInEveryFormat() throws {
        // The code task's completions run in the sandbox: CodeRewardTests checks them in Python.
        for name in BuiltinTasks.names where name != CodeTask.name {
            let task = try BuiltinTasks.make(name)
            for format in PromptFormat.all {
                let data = try makeDataset(task: task, train: 50, test: 50, seed: 9, format: format)
                for row in data.train + data.test {
                    let completion = try XCTUnwrap(row.completionText)
                    XCTAssertEqual(task.isCorrect(completion: completion, columns: row.columns), true,
                                   "\(name) \(format): \(completion)")
                    XCTAssertEqual(task.isCorrect(completion: "<answer>-1</answer>", columns: row.columns), false)
                }
            }
        }
    }

    func testVerifierCannotJudgeWithoutItsColumns() throws {
        XCTAssertNil(try BuiltinTasks.make("arithmetic").isCorrect(completion: "5", columns: [:]))
        XCTAssertNil(try BuiltinTasks.make("countdown").isCorrect(completion: "5", columns: ["target": 5]))
        XCTAssertNil(try BuiltinTasks.make("countdown").isCorrect(completion: "5", columns: ["numbers": ["a"], "target": 5]))
    }

    func testTooManyProblemsIsATypedError() throws {
        let tiny = try ArithmeticTask(digits: 1, operations: [.add])  // 100 distinct problems
        XCTAssertNoThrow(try makeDataset(task: tiny, train: 60, test: 40, seed: 1, format: .plain))
        XCTAssertThrowsError(try makeDataset(task: tiny, train: 61, test: 40, seed: 1, format: .plain)) { error in
            XCTAssertEqual(error as? TaskError, .notEnoughProblems(task: "arithmetic", split: "train", requested: 61, found: 60))
        }
    }

    func testRegistryErrors() {
        XCTAssertThrowsError(try BuiltinTasks.make("sudoku")) { error in
            XCTAssertEqual("\(error)", "unknown task 'sudoku'; known tasks: arithmetic, countdown, code")
        }
        XCTAssertThrowsError(try BuiltinTasks.make("arithmetic", options: TaskOptions(digits: 12)))
        XCTAssertThrowsError(try BuiltinTasks.make("arithmetic", options: TaskOptions(operations: ["^"])))
        XCTAssertThrowsError(try BuiltinTasks.make("arithmetic", options: TaskOptions(maxTarget: 5))) { error in
            XCTAssertTrue("\(error)".contains("max_target"), "\(error)")
        }
        XCTAssertThrowsError(try BuiltinTasks.make("countdown", options: TaskOptions(digits: 3)))
        XCTAssertThrowsError(try BuiltinTasks.make("countdown", options: TaskOptions(numberCount: 1...4)))
        XCTAssertNoThrow(try BuiltinTasks.make("arithmetic", options: TaskOptions(digits: 2, operations: ["+", "x", "-"])))
    }
}

final class CodeTaskTests: XCTestCase {
    func testProblemsAreSeededDistinctAndWellFormed() throws {
        let a = try makeDataset(task: try CodeTask(), train: 300, test: 50, seed: 3, format: .r1)
        let b = try makeDataset(task: try CodeTask(), train: 300, test: 50, seed: 3, format: .r1)
        XCTAssertEqual(a.train, b.train)
        XCTAssertTrue(Set(a.train.map(\.prompt)).isDisjoint(with: Set(a.test.map(\.prompt))))
        for row in a.train.prefix(50) {
            let tests = try XCTUnwrap(row.columns["tests"]?.arrayValue)
            XCTAssertEqual(tests.count, 5)
            XCTAssertTrue(tests.allSatisfy { $0.stringValue?.hasPrefix("assert f(") == true })
            let completion = try XCTUnwrap(row.completionText)
            XCTAssertTrue(completion.contains("<answer>```python\ndef f(x):\n"), completion)
        }
        // Python's floor division and modulo, not Swift's truncation.
        XCTAssertEqual(CodeTask.pyFloorDiv(-7, 2), -4)
        XCTAssertEqual(CodeTask.pyMod(-7, 3), 2)
    }
}
