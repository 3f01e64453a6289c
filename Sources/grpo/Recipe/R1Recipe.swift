import ArgumentParser
import Foundation
import ModelIO
import Tasks
import TensorCore
import Training
import Transformer

/// `grpo recipe ...`: multi-stage pipelines.
struct RecipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recipe", abstract: "Multi-stage training pipelines.",
                                                    subcommands: [R1Command.self])
}

/// `grpo recipe r1 --config recipes/r1.yaml`: DeepSeek-R1's pipeline.
struct R1Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "r1",
        abstract: "DeepSeek-R1's pipeline: cold-start SFT, reasoning GRPO, rejection sampling + SFT on a mix, a final GRPO stage with rule "
            + "rewards and a reward model; a stage table at the end.",
        discussion: "Stages run in the order of the file, each in OUT/<name> (resumed from its latest checkpoint; a finished stage, "
            + "marked by OUT/<name>/stage.json, is skipped on a rerun). See recipes/r1.yaml.")

    @Option(help: "The recipe file.") var config = "recipes/r1.yaml"
    @Option(help: "Working folder (default: the file's `out`).") var out: String?
    @Option(help: "Seed (default: the file's `seed`).") var seed: Int?
    @Option(help: "Stop after this stage (the table covers the finished stages).") var until: String?

    func run() throws {
        var file = try R1RecipeFile.load(config)
        if let out { file.out = out }
        if let seed { file.seed = seed }
        if let until, !file.stages.contains(where: { $0.name == until }) {
            throw ValidationError("--until \(until): no such stage in \(config) (stages: \(file.stages.map(\.name).joined(separator: ", ")))")
        }
        try R1Recipe(file: file).run(until: until)
    }
}

/// Runs a recipe file's stages in order, then evaluates the table's stages.
struct R1Recipe {
    let file: R1RecipeFile
    let out: URL
    let start = Clock.now()

    init(file: R1RecipeFile) {
        self.file = file
        out = URL(fileURLWithPath: file.out)
    }

    func log(_ text: String) { print(String(format: "[%7.1fs] %@", Clock.now() - start, text)) }

    func run(until: String?) throws {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try R1Data.make(file.data, seed: file.seed, out: out, log: log)
        for (i, stage) in file.stages.enumerated() {
            if let done = finished(stage.name) {
                log("stage \(i + 1)/\(file.stages.count) \(stage.name): done before (\(done.path))")
            } else {
                log("stage \(i + 1)/\(file.stages.count) \(stage.name): \(stage.trainer.rawValue) from \(stage.model) on \(stage.trainFiles.joined(separator: " + "))")
                let stageStart = Clock.now()
                let result = try runStage(stage)
                try AtomicFile.write(try JSONSerialization.data(withJSONObject: ["output": result.path, "seconds": Clock.now() - stageStart],
                                                                options: [.sortedKeys]),
                                     to: directory(stage.name).appendingPathComponent("stage.json"))
                log(String(format: "stage %@ done in %.0fs: %@", stage.name, Clock.now() - stageStart, result.path))
            }
            if stage.name == until { break }
        }
        let rows = try R1StageTable(recipe: self).evaluate()
        let table = R1StageTable.markdown(rows)
        print(table)
        try AtomicFile.write(Data(table.utf8), to: out.appendingPathComponent("stages.md"))
        log("stage table in \(out.appendingPathComponent("stages.md").path)")
    }

    func directory(_ stage: String) -> URL { out.appendingPathComponent(stage) }

    /// A finished stage's output (its final checkpoint, or a sample stage's rows), from stage.json.
    func finished(_ stage: String) -> URL? {
        guard let data = try? Data(contentsOf: directory(stage).appendingPathComponent("stage.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let path = json["output"] as? String else { return nil }
        return URL(fileURLWithPath: path)
    }

    func output(_ stage: String) throws -> URL {
        guard let url = finished(stage) else { throw ValidationError("stage \(stage) has not finished (no \(directory(stage).path)/stage.json)") }
        return url
    }

    /// The stage's training rows: its datasets and sample outputs, shuffled with the seed, in OUT/<stage>/train.jsonl.
    func trainFile(_ stage: R1RecipeFile.Stage) throws -> URL {
        let url = directory(stage.name).appendingPathComponent("train.jsonl")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        var rows: [Row] = []
        for name in stage.trainFiles {
            let source = R1Data.names.contains(name) ? R1Data.file(name, in: out) : try output(name)
            rows += try JSONL.read(source).rows
        }
        var random = SeededRandom(seed: UInt64(file.seed), stream: UInt64(stage.name.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) }))
        try JSONL.write(stage.trainFiles.count > 1 ? random.shuffled(rows) : rows, to: url)
        return url
    }

    /// `{stage}` in a setting's strings becomes that stage's output path.
    func filled(_ value: SettingValue) throws -> SettingValue {
        switch value {
        case .string(var s):
            for stage in file.stages where s.contains("{\(stage.name)}") {
                s = s.replacingOccurrences(of: "{\(stage.name)}", with: try output(stage.name).path)
            }
            return .string(s)
        case .list(let items): return .list(try items.map(filled))
        default: return value
        }
    }

    func runStage(_ stage: R1RecipeFile.Stage) throws -> URL {
        let dir = directory(stage.name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let model = stage.model == "base" ? R1Data.base(in: out) : try output(stage.model)
        let train = try trainFile(stage)
        let source = "\(file.path) stage \(stage.name)"
        let settings = try stage.settings.map { SettingEntry($0.key, try filled($0.value), source: source) }
        var paths = ["model": model.path, "train_file": train.path, "output_dir": dir.path, "seed": "\(file.seed)"]
        if let eval = stage.evalFile { paths["eval_file"] = R1Data.file(eval, in: out).path }
        let entries = settings + paths.sorted { $0.key < $1.key }.map { SettingEntry($0.key, .string($0.value), source: "grpo recipe r1") }
        let resume = !(try TrainingCheckpoint.list(dir)).isEmpty
        if resume && stage.trainer != .sample { log("resuming \(stage.name) from its latest checkpoint") }
        let summary: RunSummary
        switch stage.trainer {
        case .sample: return try R1Sampling.run(settings: settings, model: model, data: train, into: dir, seed: file.seed, source: source)
        case .sft: summary = try SFTTrainer(config: try SFTConfig.resolve(entries)).train(resume: resume)
        case .grpo: summary = try GRPOTrainer(config: try GRPOConfig.resolve(entries)).train(resume: resume)
        case .rm: summary = try RewardModelTrainer(config: try RewardModelConfig.resolve(entries)).train(resume: resume)
        }
        guard let checkpoint = try summary.checkpoint ?? TrainingCheckpoint.list(dir).last?.url else {
            throw ValidationError("stage \(stage.name) wrote no checkpoint (set save_steps so one is saved at max_steps)")
        }
        return checkpoint
    }
}
