import Foundation
import Rewards
import Tasks
import XCTest

/// `command:PATH`: the example command, and commands that crash, hang, print garbage or die once.
final class CommandRewardTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("command-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A shell script in the test folder.
    func script(_ name: String, _ body: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try ("#!/bin/sh\n" + body + "\n").write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url.path
    }

    static var example: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/example_reward_command.py").path
    }

    func testTheExampleCommandScoresShortRowsAndStaysUp() throws {
        let reward = try CommandReward(command: Self.example + " --words 2", timeout: 20)
        let columns: [[String: JSONValue]] = [["style": "short", "prompt": "Hi"], ["style": "short"], ["style": "long"], [:]]
        let first = try reward.score(completions: ["a b", "a b c d", "a b c d e f g", "x"], columns: columns)
        XCTAssertEqual(first, [1, 0.5, nil, nil])
        // The same process answers the next batch (its state: none; but it must not be restarted per call).
        let second = try reward.score(completions: ["a b c", "", "", ""], columns: columns)
        XCTAssertEqual(second, [0.75, 1, nil, nil])
        XCTAssertEqual(reward.name, "command:example_reward_command.py")
    }

    func testACommandThatCrashesFailsNamingIt() throws {
        let path = try script("crash.sh", "read line; echo 'boom' >&2; exit 3")
        let reward = try CommandReward(command: path, timeout: 10)
        XCTAssertThrowsError(try reward.score(completions: ["a"], columns: [[:]])) { error in
            guard case .commandFailed(let name, let reason)? = error as? RewardError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "command:crash.sh")
            XCTAssertTrue(reason.contains("exited"), reason)
        }
    }

    func testACommandThatHangsTimesOutAndIsRestarted() throws {
        let marker = folder.appendingPathComponent("started").path
        // Hangs on its first start only: the call after the timeout gets a fresh process that answers.
        let path = try script("hang.sh", """
            if [ -e \(marker) ]; then read line; echo '{"rewards": [0.25]}'; read line; fi
            touch \(marker); read line; sleep 60
            """)
        let reward = try CommandReward(command: path, timeout: 0.5)
        let start = Date()
        XCTAssertThrowsError(try reward.score(completions: ["a"], columns: [[:]])) { error in
            XCTAssertEqual(error as? RewardError, .timedOut(reward: "command:hang.sh", seconds: 0.5))
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the hung process is killed, not waited for")
        XCTAssertEqual(try reward.score(completions: ["a"], columns: [[:]]), [0.25])
    }

    func testGarbageOutputIsAClearError() throws {
        for (name, line, expected) in [("garbage.sh", "hello world", "expected one JSON object"),
                                       ("norewards.sh", "{\\\"scores\\\": [1]}", "no \"rewards\" list"),
                                       ("strings.sh", "{\\\"rewards\\\": [\\\"1\\\"]}", "not a number or null"),
                                       ("bools.sh", "{\\\"rewards\\\": [true]}", "not a number or null")] {
            let path = try script(name, "while read line; do echo \"\(line)\"; done")
            let reward = try CommandReward(command: path, timeout: 10)
            XCTAssertThrowsError(try reward.score(completions: ["a"], columns: [[:]])) { error in
                guard case .commandFailed(let reward, let reason)? = error as? RewardError else { return XCTFail("\(error)") }
                XCTAssertEqual(reward, "command:\(name)")
                XCTAssertTrue(reason.contains(expected), "\(name): \(reason)")
            }
        }
    }

    func testACommandThatDiesOnceIsRestartedOnce() throws {
        let marker = folder.appendingPathComponent("died").path
        let path = try script("once.sh", """
            if [ ! -e \(marker) ]; then touch \(marker); exit 1; fi
            while read line; do echo '{"rewards": [1, null]}'; done
            """)
        let reward = try CommandReward(command: path, timeout: 10)
        XCTAssertEqual(try reward.score(completions: ["a", "b"], columns: [[:], [:]]), [1, nil])
    }

    func testAMissingCommandIsRejectedUpFront() {
        XCTAssertThrowsError(try CommandReward(command: "/no/such/reward --x")) { error in
            XCTAssertTrue("\(error)".contains("'/no/such/reward'"), "\(error)")
        }
    }

    func testTheRunnerChecksTheCount() throws {
        let path = try script("short.sh", "while read line; do echo '{\"rewards\": [1]}'; done")
        let runner = RewardRunner(rewards: [try CommandReward(command: path, timeout: 10)], timeout: 10)
        let batch = try runner.score(completions: ["a", "b"], columns: [[:], [:]])
        XCTAssertEqual(batch.scores, [[nil, nil]])
        guard case .failed(let message) = batch.outcomes[0] else { return XCTFail("\(batch.outcomes)") }
        XCTAssertEqual(message, RewardError.wrongScoreCount(reward: "command:short.sh", expected: 2, actual: 1).description)
    }
}

/// `NAME?column=value`: a reward that judges only the selected rows.
final class SelectedRewardTests: XCTestCase {
    func testOnlySelectedRowsAreJudgedAndSpecsParse() throws {
        let reward = try SelectedReward(try BuiltinRewards.make("math_answer"), column: "kind", value: "math")
        let columns: [[String: JSONValue]] = [["kind": "math", "answer": "5"], ["kind": "general", "answer": "5"], ["kind": "math", "answer": "7"]]
        XCTAssertEqual(try reward.score(completions: ["<answer>5</answer>", "<answer>5</answer>", "<answer>5</answer>"], columns: columns),
                       [1, nil, 0])
        XCTAssertEqual(try reward.score(completions: ["x"], columns: [["kind": "general"]]), [nil])
        XCTAssertEqual(reward.name, "math_answer?kind=math")
        let either = try SelectedReward(try BuiltinRewards.make("format"), column: "kind", value: "math|code")
        XCTAssertEqual(try either.score(completions: ["x", "x", "x"], columns: [["kind": "code"], ["kind": "general"], ["kind": "math"]]),
                       [0, nil, 0])
        XCTAssertEqual(try SelectedReward.split("format").name, "format")
        XCTAssertNil(try SelectedReward.split("format").selector)
        let split = try SelectedReward.split("rm:runs/rm/checkpoint-10?kind=general")
        XCTAssertEqual(split.name, "rm:runs/rm/checkpoint-10")
        XCTAssertEqual(split.selector?.column, "kind")
        XCTAssertEqual(split.selector?.value, "general")
        for bad in ["format?kind", "format?=x", "command:/x ?a b=c"] {
            XCTAssertThrowsError(try SelectedReward.split(bad)) { error in XCTAssertTrue("\(error)".contains("?column=value"), "\(error)") }
        }
        XCTAssertThrowsError(try SelectedReward(try BuiltinRewards.make("equation_steps"), column: "kind", value: "math"))
    }
}
