import ArgumentParser
import Collectives
import Foundation
import Training

/// `grpo train sft|grpo`: the trainers, configured by YAML with `--set key=value` overrides.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (supervised fine-tuning, GRPO, PPO or a reward model).",
        subcommands: [SFTCommand.self, GRPOCommand.self, PPOCommand.self, RewardModelCommand.self])
}

/// A `grpo train X` command: resolve the trainer's settings, print them or train.
protocol TrainerCommand: ParsableCommand {
    associatedtype Config: TrainerSettings
    var options: TrainOptions { get }
    /// Loads what `config` names and trains with `loop` (`log` prints the loading lines).
    static func train(_ config: Config, _ options: TrainOptions, loop: TrainingLoop, log: @escaping (String) -> Void) throws
}

extension TrainerCommand {
    /// Trains; under mpirun on every rank, split by `DataParallel` (rank 0 prints and writes). A
    /// rank that fails ends the whole run, so no rank waits forever in a collective.
    func run() throws {
        let config = try options.resolve(Config.self)
        if options.printConfig { return print(config.yaml, terminator: "") }
        let communicator = try Launch.communicator()
        var loop = TrainingLoop()
        loop.communicator = communicator
        do {
            try Self.train(config, options, loop: loop, log: communicator.isMain ? { print($0) } : { _ in })
        } catch where communicator.size > 1 && (error as? TrainingError)?.exitStatus == nil {
            // (An interruption reaches every rank at the same step: they all stop, as one process does.)
            FileHandle.standardError.write(Data("error (rank \(communicator.rank) of \(communicator.size)): \(error)\n".utf8))
            communicator.abort(code: 1)
        } catch {
            try? MPICommunicator.finalize()  // the run's error is the one to report
            throw error
        }
        try MPICommunicator.finalize()
    }

    /// The help's list of keys.
    static func keysHelp(_ title: String) -> String { "\(title):\n" + Config.documentation }
}

struct SFTCommand: TrainerCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft", abstract: "Supervised fine-tuning on prompt/completion rows.", discussion: keysHelp("Config keys"))
    @OptionGroup var options: TrainOptions

    static func train(_ config: SFTConfig, _ options: TrainOptions, loop: TrainingLoop, log: @escaping (String) -> Void) throws {
        try SFTTrainer(config: config, skipBadLines: options.skipBadLines, log: log).train(resume: options.resume, loop: loop)
    }
}

struct GRPOCommand: TrainerCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo", abstract: "Group Relative Policy Optimization from a model folder, SFT checkpoint or GGUF file.",
        discussion: keysHelp("Config keys (TRL's GRPOConfig names)"))
    @OptionGroup var options: TrainOptions

    static func train(_ config: GRPOConfig, _ options: TrainOptions, loop: TrainingLoop, log: @escaping (String) -> Void) throws {
        try GRPOTrainer(config: config, skipBadLines: options.skipBadLines, log: log).train(resume: options.resume, loop: loop)
    }
}

struct PPOCommand: TrainerCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo", abstract: "PPO with a value model and GAE (TRL's PPOTrainer semantics) from a model folder, SFT checkpoint or GGUF file.",
        discussion: keysHelp("Config keys (TRL's PPOConfig names)"))
    @OptionGroup var options: TrainOptions

    static func train(_ config: PPOConfig, _ options: TrainOptions, loop: TrainingLoop, log: @escaping (String) -> Void) throws {
        try PPOTrainer(config: config, skipBadLines: options.skipBadLines, log: log).train(resume: options.resume, loop: loop)
    }
}

struct RewardModelCommand: TrainerCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "A reward model from preference pairs (TRL's RewardTrainer semantics): prompt, chosen, rejected rows.",
        discussion: keysHelp("Config keys (TRL's RewardConfig names)"))
    @OptionGroup var options: TrainOptions

    static func train(_ config: RewardModelConfig, _ options: TrainOptions, loop: TrainingLoop, log: @escaping (String) -> Void) throws {
        try RewardModelTrainer(config: config, skipBadLines: options.skipBadLines, log: log).train(resume: options.resume, loop: loop)
    }
}
