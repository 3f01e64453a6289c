import Foundation
import ModelIO
import Transformer
import XCTest

/// Faults a long run meets (issue 22): SIGINT / SIGTERM, a NaN loss or gradient, NaN weights, a full
/// disk and a read-only output folder. Each ends in a clear message, the status a shell expects, and
/// checkpoints that load.
final class FaultTests: XCTestCase {
    var tiny: TinyRun!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        tiny = try TinyRun("faults")
    }

    override func tearDown() { tiny?.remove() }

    func sft(_ output: String, _ extra: [String]) -> [String] {
        ["train", "sft"] + (["model=\(tiny.model.path)", "train_file=\(tiny.train.path)", "output_dir=\(tiny.dir.appendingPathComponent(output).path)",
                             "per_device_train_batch_size=8", "learning_rate=0.001", "lr_scheduler_type=constant", "logging_steps=1"]
                            + extra).flatMap { ["--set", $0] }
    }

    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process(), err = Pipe()
        process.executableURL = GRPOBinary.url
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        return (process, err)
    }

    func waitForLoggedSteps(_ output: URL, _ n: Int, _ process: Process) {
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline && KillHarness.loggedSteps(output) < n { usleep(1000) }
    }

    func weights(_ checkpoint: URL) throws -> [Float] {
        let model = try ModelCheckpoint.load(directory: checkpoint)
        return withExtendedLifetime(model) { Array(model.parameters.values.buffer) }
    }

    /// SIGTERM and SIGINT: the step ends, a checkpoint is written, the status is 143 / 130, and a
    /// resume goes on as if nothing happened.
    func testSignalsCheckpointAndExit() throws {
        for (signal, status, name) in [(SIGTERM, Int32(143), "SIGTERM"), (SIGINT, Int32(130), "SIGINT")] {
            let output = tiny.dir.appendingPathComponent("signal-\(name)")
            let (process, err) = try start(sft(output.lastPathComponent, ["max_steps=100000", "save_steps=100000"]))
            waitForLoggedSteps(output, 5, process)
            kill(process.processIdentifier, signal)
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit, name)
            XCTAssertEqual(process.terminationStatus, status, "\(name): \(message)")
            let step = KillHarness.loggedSteps(output)
            XCTAssertTrue(message.contains("stopped by \(name) after step \(step)"), message)
            XCTAssertEqual(KillHarness.checkpoints(output), [step], "\(name): the one checkpoint is the signal's")
            guard signal == SIGTERM else { continue }
            // Resumed to three steps further, the run equals one never stopped.
            let resumed = try GRPOBinary.run(sft(output.lastPathComponent, ["max_steps=\(step + 3)", "save_steps=100000"]) + ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.err)
            let straight = try GRPOBinary.run(sft("signal-straight", ["max_steps=\(step + 3)", "save_steps=100000"]))
            XCTAssertEqual(straight.status, 0, straight.err)
            let other = tiny.dir.appendingPathComponent("signal-straight")
            XCTAssertEqual(try KillHarness.metricLines(output), try KillHarness.metricLines(other))
            XCTAssertNil(try KillHarness.differingFile(output.appendingPathComponent("checkpoint-\(step + 3)"),
                                                       other.appendingPathComponent("checkpoint-\(step + 3)")))
        }
    }

    /// A second signal ends the process at once, inside the step (no "stopped by" line); every
    /// checkpoint left loads and the run resumes.
    func testSecondSignalExitsAtOnce() throws {
        let output = tiny.dir.appendingPathComponent("twice")
        let slow = ["train", "grpo"] + (["model=\(tiny.model.path)", "train_file=\(tiny.train.path)", "output_dir=\(output.path)",
                                         "per_device_train_batch_size=64", "num_generations=8", "max_completion_length=48",
                                         "log_completions_steps=0", "max_steps=1000", "save_steps=1", "logging_steps=1"]).flatMap { ["--set", $0] }
        let (process, err) = try start(slow)
        waitForLoggedSteps(output, 2, process)
        let began = Date()
        kill(process.processIdentifier, SIGTERM)
        usleep(5000)
        kill(process.processIdentifier, SIGTERM)
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 143, message)
        XCTAssertFalse(message.contains("stopped by"), "the second signal did not wait for the step: \(message)")
        XCTAssertLessThan(Date().timeIntervalSince(began), 1)
        for step in KillHarness.checkpoints(output) {
            XCTAssertNoThrow(try ModelCheckpoint.load(directory: output.appendingPathComponent("checkpoint-\(step)")))
        }
        let resumed = try GRPOBinary.run(slow.map { $0 == "max_steps=1000" ? "max_steps=\(KillHarness.loggedSteps(output) + 1)" : $0 } + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
    }

    /// Injected NaN gradients at steps 3 and 4: both updates are skipped and counted, the weights
    /// after step 4 are those after step 2, and the run goes on.
    func testNonfiniteStepsAreSkippedAndCounted() throws {
        let output = tiny.dir.appendingPathComponent("nonfinite")
        let result = try GRPOBinary.run(sft("nonfinite", ["max_steps=6", "save_steps=2", "save_total_limit=0"]),
                                        environment: ["GRPO_INJECT_NONFINITE_STEPS": "3,4"])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("step 4: loss"), result.out)
        XCTAssertTrue(result.out.contains("update skipped (2 in a row, 2 in all)"), result.out)
        let counts = try KillHarness.metricLines(output).map { $0["train/nonfinite_steps"] ?? -1 }
        XCTAssertEqual(counts, [0, 0, 1, 2, 2, 2])
        XCTAssertEqual(try weights(output.appendingPathComponent("checkpoint-2")), try weights(output.appendingPathComponent("checkpoint-4")))
        XCTAssertNotEqual(try weights(output.appendingPathComponent("checkpoint-4")), try weights(output.appendingPathComponent("checkpoint-6")))
    }

    /// A learning rate of 1e30 blows the model up for real: the loss turns NaN, the updates are
    /// refused, three in a row stop the run with an error, and every checkpoint holds finite weights.
    func testRealNaNStopsTheRunWithFiniteCheckpoints() throws {
        let output = tiny.dir.appendingPathComponent("blowup")
        let result = try GRPOBinary.run(sft("blowup", ["max_steps=50", "save_steps=1", "save_total_limit=0", "learning_rate=1e30",
                                                       "max_grad_norm=0", "max_nonfinite_steps=3"]))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("NaN or infinite for 3 steps in a row"), result.err)
        let checkpoints = KillHarness.checkpoints(output)
        XCTAssertFalse(checkpoints.isEmpty)
        XCTAssertLessThan(checkpoints.max() ?? 50, 50)
        for step in checkpoints {
            let w = try weights(output.appendingPathComponent("checkpoint-\(step)"))
            XCTAssertTrue(w.allSatisfy(\.isFinite), "checkpoint-\(step) holds a NaN")
            let moments = try SafeTensorsFile(url: output.appendingPathComponent("checkpoint-\(step)/optimizer.safetensors"))
            let withNaN = try moments.names.filter { name in
                var values = [Float](repeating: 0, count: try XCTUnwrap(moments.info(name)).shape.reduce(1, *))
                try values.withUnsafeMutableBufferPointer { try moments.read(name, into: $0.baseAddress!) }
                return !values.allSatisfy(\.isFinite)
            }
            XCTAssertEqual(withNaN, [], "checkpoint-\(step)/optimizer.safetensors: moments with a NaN")
        }
    }

    /// A model with a NaN weight is refused when loaded, by tensor name.
    func testNaNWeightsAreRefused() throws {
        let model = try ModelCheckpoint.load(directory: tiny.model)
        let norm = try XCTUnwrap(model.parameters["model.norm.weight"])
        norm.data[3] = .nan
        let broken = tiny.dir.appendingPathComponent("nan-model")
        try ModelCheckpoint.save(model, to: broken, tokenizerSource: tiny.tokenizerFolder)
        let result = try GRPOBinary.run(["train", "sft"] + ["model=\(broken.path)", "train_file=\(tiny.train.path)",
                                                            "output_dir=\(tiny.dir.appendingPathComponent("nan-run").path)"].flatMap { ["--set", $0] })
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("\(broken.path): tensor 'model.norm.weight' holds nan at flat index 3"), result.err)
    }

    /// A disk that fills up mid-run (a 1.5 MB tmpfs; needs root): the run stops with an error naming
    /// the file, no unfinished checkpoint folder is left, and the checkpoints there load. Then the
    /// same folder read-only: refused at the start, by path.
    func testFullDiskAndReadOnlyOutput() throws {
        let mountPoint = tiny.dir.appendingPathComponent("small-disk")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mounted = try Self.shell("mount -t tmpfs -o size=1500k tmpfs '\(mountPoint.path)'")
        try XCTSkipUnless(mounted, "mounting a tmpfs needs root")
        defer { _ = try? Self.shell("umount '\(mountPoint.path)'") }
        let output = mountPoint.appendingPathComponent("run")
        let result = try GRPOBinary.run(sft("small-disk/run", ["max_steps=200", "save_steps=1", "save_total_limit=3"]))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains(output.path) && result.err.contains("cannot write: No space left on device"), result.err)
        XCTAssertTrue(result.err.contains("is whole and loads; free space and continue with --resume"), result.err)
        XCTAssertFalse(result.err.contains("Fatal error"), result.err)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "unfinished checkpoint folders left: \(names)")
        let checkpoints = KillHarness.checkpoints(output)
        XCTAssertFalse(checkpoints.isEmpty, names.description)
        for step in checkpoints {
            XCTAssertNoThrow(try ModelCheckpoint.load(directory: output.appendingPathComponent("checkpoint-\(step)")))
            XCTAssertNoThrow(try SafeTensorsFile(url: output.appendingPathComponent("checkpoint-\(step)/optimizer.safetensors")))
        }

        XCTAssertTrue(try Self.shell("mount -o remount,ro '\(mountPoint.path)'"))
        let readOnly = try GRPOBinary.run(sft("small-disk/run", ["max_steps=200"]) + ["--resume"])
        XCTAssertNotEqual(readOnly.status, 0)
        XCTAssertTrue(readOnly.err.contains("\(output.path): cannot write") && readOnly.err.contains("Read-only file system"), readOnly.err)
    }

    static func shell(_ command: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
