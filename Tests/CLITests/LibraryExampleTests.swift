import Foundation
import Training
import XCTest

/// The README's example of training from Swift, on a tiny model: it must compile and train.
final class LibraryExampleTests: XCTestCase {
    func testTrainingFromSwiftAsTheREADMEShows() throws {
        let tiny = try TinyRun("library")
        defer { tiny.remove() }
        // From the README, with the paths and sizes of the tiny run.
        var config = GRPOConfig()                        // TRL's GRPOConfig defaults where TRL has them
        config.training.model = tiny.model.path          // a Hugging Face folder or a .gguf file
        config.training.trainFile = tiny.train.path      // JSONL: prompt + the columns rewards read
        config.training.evalFile = tiny.test.path
        config.training.outputDir = tiny.dir.appendingPathComponent("my-grpo").path
        config.training.maxSteps = 3
        config.training.batchSize = 8
        config.numGenerations = 4
        config.rollout.maxCompletionLength = 8
        config.rewards.functions = ["math_answer", "format"]
        config.evalNumSamples = 2
        var loop = TrainingLoop()                        // prints progress; sinks, hooks and stops are settable
        loop.log = { _ in }
        loop.showProgress = false
        let trainer = try GRPOTrainer(config: config)    // loads model, tokenizer, prompts, rewards, held-out rows
        let run = try trainer.train(loop: loop)          // the shared loop: metrics.jsonl, evaluations, checkpoints
        XCTAssertEqual(run.steps, 3)
        XCTAssertEqual(run.evaluations.map(\.step), [0, 3])
        XCTAssertNotNil(run.evaluations.last?.metrics["eval/pass@1"])
        XCTAssertEqual(run.checkpoint?.lastPathComponent, "checkpoint-3")

        config.training.maxSteps = 0
        XCTAssertThrowsError(try GRPOTrainer(config: config)) { error in
            XCTAssertTrue("\(error)".contains("max_steps"), "\(error)")
        }
    }
}
