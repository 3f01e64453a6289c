import Foundation
import Transformer
import XCTest

/// `grpo train` under `mpirun`: a 2-rank run and a 1-rank run of the same global batch and seed
/// take the same steps (losses and final weights equal up to fp32 summation order), and a batch
/// the ranks cannot split is a clear error. CI runs this as root (`make test`), hence the
/// OMPI_ALLOW_RUN_AS_ROOT variables.
final class DataParallelTests: XCTestCase {
    /// Runs `grpo arguments...` on `ranks` processes with one compute thread each.
    func mpirun(_ ranks: Int, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let launcher = try XCTUnwrap(["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                     "no mpirun: Scripts/install-deps.sh installs openmpi-bin")
        return try GRPOBinary.run(["--oversubscribe", "-np", String(ranks), GRPOBinary.url.path] + arguments,
                                  environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "GRPO_NUM_THREADS": "1",
                                                "OPENBLAS_NUM_THREADS": "1"], executable: URL(fileURLWithPath: launcher))
    }

    /// A reward that varies among a random model's completions (its length mod 5), so every step
    /// has non-zero advantages and a gradient.
    func lengthReward(in dir: URL) throws -> String {
        let script = dir.appendingPathComponent("length_mod5.py")
        try """
        import json, sys
        for line in sys.stdin:
            batch = json.loads(line)
            print(json.dumps({"rewards": [float(len(c) % 5) for c in batch["completions"]]}), flush=True)
        """.write(to: script, atomically: true, encoding: .utf8)
        return "command:/usr/bin/python3 \(script.path)"
    }

    /// One logged figure of a run's metrics.jsonl, by step.
    func figures(_ key: String, _ output: URL) throws -> [Int: Double] {
        let text = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        var figures: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let step = object["step"] as? Int, let value = object[key] as? Double { figures[step] = value }
        }
        return figures
    }

    /// A model folder's parameters, copied out of the loaded model.
    func weights(_ folder: URL) throws -> [Float] {
        let model = try ModelCheckpoint.load(directory: folder)
        return withExtendedLifetime(model) { Array(model.parameters.values.buffer) }
    }

    /// |a - b| / |b| (L2 norms).
    func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        return (difference / b.reduce(0.0) { $0 + Double($1) * Double($1) }).squareRoot()
    }

    /// Runs `trainer` for `steps` steps on 1 and then 2 ranks; returns each run's output folder.
    func trainOnOneAndTwoRanks(_ run: TinyRun, _ trainer: String, _ settings: [String]) throws -> [URL] {
        try [1, 2].map { ranks in
            let output = "\(trainer)\(ranks)"
            let result = try mpirun(ranks, ["train", trainer] + run.settings(trainer, output: output, settings))
            XCTAssertEqual(result.status, 0, "\(trainer), \(ranks) ranks: \(result.err)\n\(result.out)")
            return run.dir.appendingPathComponent(output)
        }
    }

    /// Each `keys` figure of every step within `bound(key, value)` between two runs' metrics.jsonl.
    func assertSameFigures(_ keys: [String], _ outputs: [URL], steps: Int, bound: (String, Double) -> Double) throws {
        for key in keys {
            let one = try figures(key, outputs[0]), two = try figures(key, outputs[1])
            XCTAssertEqual(one.count, steps, "\(key) logged at every step")
            XCTAssertEqual(Set(one.keys), Set(two.keys), key)
            for (step, a) in one.sorted(by: { $0.key < $1.key }) {
                let b = try XCTUnwrap(two[step])
                XCTAssertLessThanOrEqual(abs(a - b), bound(key, a), "step \(step) \(key): \(a) (1 rank), \(b) (2 ranks)")
            }
        }
    }

    func testTwoRanksTakeTheStepsOneProcessTakes() throws {
        let run = try TinyRun("mpi")
        defer { run.remove() }
        // 6 prompts x 2 completions in 3 mini-batches of 4: rank 0 holds mini-batch 0 and half of 1.
        let settings = ["max_steps=10", "save_steps=10", "per_device_train_batch_size=4", "gradient_accumulation_steps=3",
                        "num_generations=2", "learning_rate=3e-3", "reward_funcs=[\(try lengthReward(in: run.dir))]"]
        var finals: [[Float]] = []
        var logged: [[String: [Int: Double]]] = []
        for ranks in [1, 2] {
            let output = "ranks\(ranks)"
            let result = try mpirun(ranks, ["train", "grpo"] + run.settings("grpo", output: output, settings))
            XCTAssertEqual(result.status, 0, "\(ranks) ranks: \(result.err)\n\(result.out)")
            let checkpoint = run.dir.appendingPathComponent(output).appendingPathComponent("checkpoint-10")
            finals.append(try weights(checkpoint))
            logged.append(try Dictionary(uniqueKeysWithValues: ["loss", "grad_norm", "reward", "entropy"].map {
                ($0, try figures($0, run.dir.appendingPathComponent(output)))
            }))
        }
        let initial = try weights(run.model)
        func distance(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot() }
        func norm(_ a: [Float]) -> Double { distance(a, a.map { _ in 0 }) }
        // The runs train (weights move, gradients are not zero), and move alike.
        XCTAssertGreaterThan(distance(finals[0], initial) / norm(initial), 1e-3, "the 1-rank run did not train")
        XCTAssertEqual(logged[0]["grad_norm"]?.count, 10)
        XCTAssertTrue(logged[0]["grad_norm"]!.values.allSatisfy { $0 > 1e-3 }, "a step without gradient: the test would not see a wrong sum")
        let weightError = distance(finals[0], finals[1]) / norm(finals[0])
        print("data-parallel equality: relative L2 weight difference after 10 steps \(weightError)")
        XCTAssertLessThanOrEqual(weightError, 1e-5, "final weights: relative L2 difference \(weightError) between 1 and 2 ranks")
        for (key, one) in logged[0] {
            let two = try XCTUnwrap(logged[1][key])
            XCTAssertEqual(Set(one.keys), Set(two.keys), key)
            for (step, a) in one.sorted(by: { $0.key < $1.key }) {
                let b = try XCTUnwrap(two[step])
                // On-policy GRPO losses are sums of +-advantage terms that cancel to ~1e-8: an
                // absolute bound of 1e-6 (the advantages are of order 1) for the loss.
                let bound = key == "loss" ? 1e-6 : 1e-5 * abs(a)
                XCTAssertLessThanOrEqual(abs(a - b), bound, "step \(step) \(key): \(a) (1 rank), \(b) (2 ranks)")
            }
        }
    }

    /// SFT: 2 ranks each take half of every micro-batch's rows; the same final weights as 1 rank.
    func testTwoRanksTrainSFTAsOneProcessDoes() throws {
        let run = try TinyRun("mpi-sft")
        defer { run.remove() }
        let settings = ["max_steps=10", "save_steps=10", "per_device_train_batch_size=4", "gradient_accumulation_steps=2",
                        "learning_rate=3e-3"]
        var finals: [[Float]] = []
        var losses: [[Int: Double]] = []
        for ranks in [1, 2] {
            let result = try mpirun(ranks, ["train", "sft"] + run.settings("sft", output: "sft\(ranks)", settings))
            XCTAssertEqual(result.status, 0, "\(ranks) ranks: \(result.err)\n\(result.out)")
            finals.append(try weights(run.dir.appendingPathComponent("sft\(ranks)/checkpoint-10")))
            losses.append(try figures("loss", run.dir.appendingPathComponent("sft\(ranks)")))
        }
        let difference = zip(finals[0], finals[1]).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        let size = finals[0].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        print("data-parallel SFT equality: relative L2 weight difference after 10 steps \(difference / size)")
        XCTAssertLessThanOrEqual(difference / size, 1e-5)
        XCTAssertEqual(losses[0].count, 10)
        for (step, loss) in losses[0] {
            let other = try XCTUnwrap(losses[1][step])
            XCTAssertEqual(loss, other, accuracy: 1e-5 * abs(loss), "step \(step) loss")
        }
        XCTAssertNotEqual(losses[0][1], losses[0][10], "SFT did not train")
    }

    /// PPO: 2 ranks each sample, score and run the frozen passes on half the rollout, gather it,
    /// whiten over the whole batch and run half of each micro-batch; the same policy and value
    /// weights and the same figures as 1 rank. 16 responses in 2 mini-batches of 2 micro-batches
    /// of 4, 2 epochs, whitened rewards too.
    func testTwoRanksTrainPPOAsOneProcessDoes() throws {
        let run = try TinyRun("mpi-ppo")
        defer { run.remove() }
        let settings = ["max_steps=6", "save_steps=6", "gradient_accumulation_steps=4", "num_mini_batches=2", "num_ppo_epochs=2",
                        "learning_rate=3e-3", "whiten_rewards=true", "reward_funcs=[\(try lengthReward(in: run.dir))]"]
        let outputs = try trainOnOneAndTwoRanks(run, "ppo", settings)
        for model in ["", "value_model"] {
            let finals = try outputs.map { try weights($0.appendingPathComponent("checkpoint-6").appendingPathComponent(model)) }
            let initial = model.isEmpty ? try weights(run.model) : nil
            if let initial { XCTAssertGreaterThan(relativeDifference(finals[0], initial), 1e-3, "the 1-rank run did not train") }
            let error = relativeDifference(finals[1], finals[0])
            print("data-parallel PPO equality (\(model.isEmpty ? "policy" : model)): relative L2 weight difference after 6 steps \(error)")
            XCTAssertLessThanOrEqual(error, 1e-5, "\(model.isEmpty ? "policy" : model): relative difference \(error) between 1 and 2 ranks")
        }
        // Losses of order 1e-2 that partly cancel: an absolute floor of 1e-7 beside the relative 1e-5.
        try assertSameFigures(["loss", "loss/value_avg", "objective/scores", "objective/kl", "policy/entropy_avg", "val/ratio_var",
                               "completions/mean_length", "reward"], outputs, steps: 6) { max(1e-5 * abs($1), 1e-7) }
        XCTAssertNotEqual(try figures("objective/scores", outputs[0]).values.reduce(0, +), 0, "a zero reward would hide a wrong gather")
    }

    /// The reward model: 2 ranks each take half of every micro-batch's pairs; the same weights and
    /// figures (loss, accuracy, margin, rewards, num_tokens) as 1 rank.
    func testTwoRanksTrainARewardModelAsOneProcessDoes() throws {
        let run = try TinyRun("mpi-rm")
        defer { run.remove() }
        let data = try GRPOBinary.run(["data", "preferences", "--train", "64", "--test", "4", "--seed", "3", "--out", run.dir.path])
        XCTAssertEqual(data.status, 0, data.err)
        let settings = ["train_file=\(run.dir.appendingPathComponent("pairs-train.jsonl").path)", "max_steps=8", "save_steps=8",
                        "per_device_train_batch_size=4", "gradient_accumulation_steps=2", "learning_rate=3e-3", "eval_on_start=false"]
        let outputs = try trainOnOneAndTwoRanks(run, "rm", settings)
        let finals = try outputs.map { try weights($0.appendingPathComponent("checkpoint-8")) }
        let error = relativeDifference(finals[1], finals[0])
        print("data-parallel reward-model equality: relative L2 weight difference after 8 steps \(error)")
        XCTAssertLessThanOrEqual(error, 1e-5)
        try assertSameFigures(["loss", "accuracy", "margin", "min_reward", "mean_reward", "max_reward", "num_tokens", "grad_norm"], outputs,
                              steps: 8) { max(1e-5 * abs($1), 1e-7) }
        XCTAssertNotEqual(try figures("loss", outputs[0])[1], try figures("loss", outputs[0])[8], "the reward model did not train")
    }

    /// Two ranks stopped at step 5 and resumed go on as an uninterrupted 2-rank run: the same
    /// weights bit for bit (each rank's sampling state comes back from the checkpoint).
    func testTwoRanksResumeWhereTheyStopped() throws {
        let run = try TinyRun("mpi-resume")
        defer { run.remove() }
        let settings = ["save_steps=5", "per_device_train_batch_size=4", "gradient_accumulation_steps=2", "num_generations=2",
                        "learning_rate=3e-3", "lr_scheduler_type=constant", "reward_funcs=[\(try lengthReward(in: run.dir))]"]
        for (output, steps, resume) in [("whole", 10, false), ("halves", 5, false), ("halves", 10, true)] {
            let result = try mpirun(2, ["train", "grpo"] + run.settings("grpo", output: output, settings + ["max_steps=\(steps)"])
                                        + (resume ? ["--resume"] : []))
            XCTAssertEqual(result.status, 0, "\(output) to \(steps): \(result.err)\n\(result.out)")
        }
        let whole = try weights(run.dir.appendingPathComponent("whole/checkpoint-10"))
        let resumed = try weights(run.dir.appendingPathComponent("halves/checkpoint-10"))
        XCTAssertEqual(whole, resumed, "2 ranks: a resumed run's weights differ from an uninterrupted run's")
        XCTAssertNotEqual(whole, try weights(run.dir.appendingPathComponent("halves/checkpoint-5")))
    }

    /// The pid of rank `rank` among `launcher`'s child processes (Open MPI's rank in its environment).
    func rankProcess(_ rank: Int, of launcher: Process) -> pid_t? {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.first { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"),
                  stat[stat.index(close, offsetBy: 2)...].split(separator: " ").dropFirst().first.flatMap({ pid_t($0) }) == launcher.processIdentifier,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environment.split(separator: 0).contains { Array($0) == Array("OMPI_COMM_WORLD_RANK=\(rank)".utf8) }
        }
    }

    /// SIGTERM to one rank only (not rank 0): every rank ends after the same step, rank 0 writes
    /// that step's checkpoint, and no rank is left waiting in a collective.
    func testASignalToOneRankStopsEveryRankWithACheckpoint() throws {
        let run = try TinyRun("mpi-signal")
        defer { run.remove() }
        let output = run.dir.appendingPathComponent("signal")
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        launcher.arguments = ["--oversubscribe", "-np", "2", GRPOBinary.url.path, "train", "sft"]
            + run.settings("sft", output: "signal", ["max_steps=100000", "save_steps=100000", "lr_scheduler_type=constant"])
        launcher.environment = ProcessInfo.processInfo.environment.merging(
            ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "GRPO_NUM_THREADS": "1"]) { _, new in new }
        let err = Pipe()
        launcher.standardOutput = FileHandle.nullDevice
        launcher.standardError = err
        try launcher.run()
        let deadline = Date().addingTimeInterval(120)
        while launcher.isRunning && Date() < deadline && KillHarness.loggedSteps(output) < 5 { usleep(1000) }
        let rank1 = try XCTUnwrap(rankProcess(1, of: launcher), "rank 1 not found among mpirun's children")
        kill(rank1, SIGTERM)
        // A rank left in a collective would wait forever: give the run a minute, then end it.
        let stopBy = Date().addingTimeInterval(60)
        while launcher.isRunning && Date() < stopBy { usleep(10_000) }
        if launcher.isRunning {
            XCTFail("the ranks still run 60 s after rank 1's SIGTERM: one waits in a collective")
            for rank in [0, 1] { rankProcess(rank, of: launcher).map { _ = kill($0, SIGKILL) } }
            kill(launcher.processIdentifier, SIGKILL)
        }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        launcher.waitUntilExit()
        XCTAssertNotEqual(launcher.terminationStatus, 0, message)
        let step = KillHarness.loggedSteps(output)
        XCTAssertGreaterThanOrEqual(step, 5)
        XCTAssertTrue(message.contains("stopped by SIGTERM after step \(step)"), message)
        XCTAssertEqual(KillHarness.checkpoints(output), [step], "the one checkpoint is the signal's step: \(message)")
        XCTAssertFalse(message.contains("MPI_ABORT"), "a rank aborted instead of stopping with the others: \(message)")
    }

    func testABatchTheRanksCannotSplitIsAnError() throws {
        let run = try TinyRun("mpi-split")
        defer { run.remove() }
        // 8 completions / 4 = 2 prompts over 3 ranks.
        let result = try mpirun(3, ["train", "grpo"] + run.settings("grpo", output: "split"))
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("per_device_train_batch_size: its 2 prompts of a generation batch"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.dir.appendingPathComponent("split/checkpoint-2").path))
        // PPO's 4-row micro-batches over 3 ranks: said so, before any step.
        let ppo = try mpirun(3, ["train", "ppo"] + run.settings("ppo", output: "ppo"))
        XCTAssertNotEqual(ppo.status, 0)
        XCTAssertTrue(ppo.err.contains("per_device_train_batch_size: its 4 rows of a micro-batch do not split evenly over 3 ranks"), ppo.err)
    }
}
