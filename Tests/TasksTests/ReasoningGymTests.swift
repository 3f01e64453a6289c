import Foundation
import Tasks
import XCTest

/// Our `reasoning_gym` verifier against reasoning-gym's own `score_answer`, on the fixture
/// Scripts/make_reasoning_gym_data.py writes, and the committed data it generates.
final class ReasoningGymTests: XCTestCase {
    static let root = URL(fileURLWithPath: "\(#filePath)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The committed data (the script's DEFAULT_PRESET).
    static let dataFolder = root.appendingPathComponent("datasets/basic_arithmetic_2x1")

    func fixture() throws -> [String: Any] {
        let url = Self.root.appendingPathComponent("Tests/TasksTests/Fixtures/reasoning_gym_scores.json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testNumberPatternIsTheScripts() throws {
        XCTAssertEqual(try fixture()["number_pattern"] as? String, ReasoningGymAnswer.numberPattern)
    }

    /// Extraction and verdict equal the script's extraction and reasoning-gym's score == 1.0, for every case.
    func testCompletionVerdictsEqualReasoningGyms() throws {
        let cases = try XCTUnwrap(fixture()["completions"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 500)
        var correct = 0
        for item in cases {
            let dataset = try XCTUnwrap(item["source_dataset"] as? String), oracle = try XCTUnwrap(item["answer"] as? String)
            let completion = try XCTUnwrap(item["completion"] as? String), score = try XCTUnwrap(item["score"] as? Double)
            let label = "\(dataset), answer \(oracle.debugDescription), completion \(completion.debugDescription)"
            XCTAssertEqual(ReasoningGymAnswer.extract(from: completion), item["extracted"] as? String, "extracted: \(label)")
            let row: [String: JSONValue] = ["answer": .string(oracle), "source_dataset": .string(dataset)]
            let verdict = Verifiers.reasoningGym().check(completion, row)
            XCTAssertEqual(verdict, score == 1, "verdict: \(label), reasoning-gym's score \(score)")
            correct += score == 1 ? 1 : 0
        }
        XCTAssertGreaterThan(correct, cases.count / 10, "the fixture has correct cases as well as wrong ones")
        XCTAssertLessThan(correct, cases.count * 9 / 10)
    }

    /// Answers given straight to score_answer: Python's Decimal and float readings, string equality.
    func testScorerVerdictsEqualReasoningGyms() throws {
        let cases = try XCTUnwrap(fixture()["answers"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 500)
        for item in cases {
            let dataset = try XCTUnwrap(item["source_dataset"] as? String), oracle = try XCTUnwrap(item["answer"] as? String)
            let given = try XCTUnwrap(item["given"] as? String), score = try XCTUnwrap(item["score"] as? Double)
            let scorer = try XCTUnwrap(ReasoningGymScorer(dataset: dataset))
            XCTAssertEqual(scorer.isCorrect(answer: given, oracle: oracle), score == 1,
                           "\(dataset) (\(scorer)): answer \(oracle.debugDescription), given \(given.debugDescription), reasoning-gym's score \(score)")
        }
    }

    func testRowsWithoutTheColumnsCannotBeJudged() {
        let verifier = Verifiers.reasoningGym()
        XCTAssertNil(verifier.check("7", ["answer": .string("7")]))
        XCTAssertNil(verifier.check("7", ["source_dataset": .string("chain_sum")]))
        XCTAssertNil(verifier.check("7", ["answer": .string("7"), "source_dataset": .string("leg_counting")]))
        XCTAssertEqual(verifier.check("so 7.", ["answer": .string("7"), "source_dataset": .string("chain_sum")]), true)
        XCTAssertEqual(try Verifiers.named("reasoning_gym").name, "reasoning_gym")
    }

    /// The committed splits parse, have their columns, do not overlap, and every reference answer is correct.
    func testCommittedDataParse() throws {
        var prompts: [String: Set<String>] = [:]
        for (split, count) in [("train", 2000), ("test", 200)] {
            let rows = try JSONL.read(Self.dataFolder.appendingPathComponent("\(split).jsonl")).rows
            XCTAssertEqual(rows.count, count, split)
            for (i, row) in rows.enumerated() {
                guard case let .text(prompt) = row.prompt else { return XCTFail("\(split) row \(i + 1): prompt is not text") }
                XCTAssertTrue(prompt.hasSuffix("\nGive the final answer as a single number."), "\(split) row \(i + 1)")
                XCTAssertEqual(row.columns["source_dataset"]?.stringValue, "basic_arithmetic", "\(split) row \(i + 1)")
                let answer = try XCTUnwrap(row.columns["answer"]?.stringValue, "\(split) row \(i + 1)")
                XCTAssertEqual(Verifiers.reasoningGym().check("The answer is \(answer).", row.columns), true, "\(split) row \(i + 1)")
                prompts[split, default: []].insert(prompt)
            }
            XCTAssertEqual(prompts[split]?.count, count, "\(split): prompts are distinct")
        }
        XCTAssertTrue(prompts["train", default: []].isDisjoint(with: prompts["test", default: []]))
    }
}
