import Foundation
import XCTest

/// The same seed gives the same bits whatever the machine chooses for itself (issue 22): the thread
/// count, and OpenBLAS's kernel for the CPU (OPENBLAS_CORETYPE forces each one this CPU can run).
/// On any x86-64 with AVX2+FMA, a 5-step SFT run of the tiny test model ends with the committed
/// weights hash. Without AVX2+FMA (GRPO_ISA=portable forces that path) products go to BLAS and the
/// bits differ from the AVX2 path's, but still not with the thread count.
final class DeterminismTests: XCTestCase {
    /// FNV-1a of checkpoint-5/model.safetensors after `sft` below, on the AVX2+FMA path. A change to the
    /// numerics changes it: check the change was meant, then update it from this test's message.
    static let goldenSFTWeights: UInt64 = 0x68a7_5ed3_2ccf_69d8

    var tiny: TinyRun!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: GRPOBinary.url.path), "no grpo binary")
        tiny = try TinyRun("determinism")
    }

    override func tearDown() { tiny?.remove() }

    /// A run's weights hash and metrics (wall-clock figures aside) under `environment`.
    func run(_ trainer: String, _ name: String, _ environment: [String: String]) throws -> (hash: UInt64, metrics: [[String: Double]]) {
        let output = tiny.dir.appendingPathComponent(name)
        let extra = trainer == "grpo" ? ["per_device_train_batch_size=16", "num_generations=4", "max_completion_length=12",
                                         "reward_funcs=[length]", "beta=0.04", "log_completions_steps=0"]
                                      : ["per_device_train_batch_size=8"]
        let result = try GRPOBinary.run(["train", trainer] + (["model=\(tiny.model.path)", "train_file=\(tiny.train.path)",
                                                               "output_dir=\(output.path)", "max_steps=5", "save_steps=5",
                                                               "logging_steps=1", "report_to=[jsonl]", "learning_rate=0.001"] + extra)
                                            .flatMap { ["--set", $0] }, environment: environment)
        XCTAssertEqual(result.status, 0, "\(name): \(result.err)")
        let weights = try Data(contentsOf: output.appendingPathComponent("checkpoint-5/model.safetensors"))
        let hash = weights.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return (hash, try KillHarness.metricLines(output))
    }

    static var cpuFlags: Set<Substring> {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? [])
    }

    func testTheSameBitsWhateverTheMachineChooses() throws {
        let flags = Self.cpuFlags
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        // OpenBLAS's kernels for CPUs of other kinds that this one can run.
        var variants: [(String, [String: String])] = [("1-thread", ["GRPO_NUM_THREADS": "1"]), ("2-threads", ["GRPO_NUM_THREADS": "2"])]
        if avx2 { variants.append(("openblas-haswell", ["OPENBLAS_CORETYPE": "Haswell"])) }
        if flags.contains("avx512f") { variants.append(("openblas-skylakex", ["OPENBLAS_CORETYPE": "SkylakeX"])) }
        variants.append(("openblas-generic", ["OPENBLAS_CORETYPE": "Prescott"]))
        for trainer in ["sft", "grpo"] {
            let reference = try run(trainer, "\(trainer)-default", [:])
            for (name, environment) in variants {
                let other = try run(trainer, "\(trainer)-\(name)", environment)
                XCTAssertEqual(other.hash, reference.hash, "\(trainer) weights with \(name)")
                XCTAssertEqual(other.metrics, reference.metrics, "\(trainer) metrics with \(name)")
            }
            if trainer == "sft" && avx2 {
                XCTAssertEqual(reference.hash, Self.goldenSFTWeights,
                               String(format: "SFT weights hash 0x%016llx differs from the committed one", reference.hash))
            }
        }
        let portable = try (1...2).map { try run("sft", "portable-\($0)", ["GRPO_ISA": "portable", "GRPO_NUM_THREADS": "\($0)"]) }
        XCTAssertEqual(portable[0].hash, portable[1].hash, "the portable path at 1 and 2 threads")
    }
}
