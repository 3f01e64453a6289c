import Foundation
import Training
import Transformer
import Yams

/// `recipes/r1.yaml` read: where the run goes, the embedded data and model, the stages in order and
/// the stages the table evaluates. Every field is checked here, so a bad file fails before any
/// stage runs, with an error naming the file, the field and what was expected.
struct R1RecipeFile {
    enum Trainer: String, CaseIterable {
        case sft, grpo, rm, sample
    }

    struct Stage {
        let name: String
        let trainer: Trainer
        /// "base" or an earlier stage's name: the model the stage starts from.
        let model: String
        /// Dataset names (see `R1Data.names`) or earlier sample stages, mixed and shuffled.
        let trainFiles: [String]
        let evalFile: String?
        /// The trainer's settings (sample: the sampler's options), `{stage}` placeholders not yet filled.
        let settings: [(key: String, value: SettingValue)]
    }

    struct DataSpec {
        var arithmeticDigits = 2, arithmeticOperations = "+,-", arithmeticTrain = 3000, arithmeticTest = 100
        var countdownNumbers = 3, countdownMaxNumber = 20, countdownMaxTarget = 50, countdownTrain = 3000, countdownTest = 100
        var generalTrain = 1500, generalTest = 50, pairsTrain = 1500, pairsTest = 100
        var coldStartPerTask = 300
        var vocabSize = 1024
        var preset = "tiny"
    }

    let path: String
    var out: String
    var seed: Int
    var data: DataSpec
    var stages: [Stage]
    /// The stages evaluated for the table, in order.
    var table: [String]
    /// The reward-model stage whose model scores general answers in the table.
    var judge: String

    enum FileError: Error, CustomStringConvertible {
        case invalid(file: String, field: String, expected: String, actual: String)

        var description: String {
            switch self {
            case let .invalid(file, field, expected, actual): "\(file): `\(field)` expected \(expected), got \(actual)"
            }
        }
    }

    static func load(_ path: String) throws -> R1RecipeFile {
        let text: String
        do { text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) } catch {
            throw SettingsError.unreadable(file: path, reason: error.localizedDescription)
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw SettingsError.unreadable(file: path, reason: "YAML: \(error)") }
        guard let mapping = root?.mapping else { throw SettingsError.notAMapping(file: path) }
        func fail(_ field: String, _ expected: String, _ node: Node?) -> FileError {
            .invalid(file: path, field: field, expected: expected, actual: node.map { "'\($0.string ?? "a \($0.sequence != nil ? "list" : "mapping")")'" } ?? "nothing")
        }
        func string(_ node: Node?, _ field: String) throws -> String {
            guard let s = node?.string, !s.isEmpty else { throw fail(field, "a string", node) }
            return s
        }
        func int(_ node: Node?, _ field: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let i = node?.int, range.contains(i) else { throw fail(field, "an integer in \(range)", node) }
            return i
        }
        let known = Set(["out", "seed", "data", "stages", "table", "judge"])
        for key in mapping.keys.compactMap(\.string) where !known.contains(key) {
            throw fail(key, "one of \(known.sorted().joined(separator: ", "))", Node(key))
        }
        var data = DataSpec()
        if let d = mapping["data"] {
            guard let dm = d.mapping else { throw fail("data", "a mapping", d) }
            var fields: [String: (inout DataSpec, Node) throws -> Void] = [:]
            func intField(_ name: String, _ kp: WritableKeyPath<DataSpec, Int>, _ range: ClosedRange<Int>) {
                fields[name] = { spec, node in spec[keyPath: kp] = try int(node, "data.\(name)", range) }
            }
            intField("arithmetic_digits", \.arithmeticDigits, 1...6)
            intField("arithmetic_train", \.arithmeticTrain, 10...1_000_000)
            intField("arithmetic_test", \.arithmeticTest, 1...100_000)
            intField("countdown_numbers", \.countdownNumbers, 2...6)
            intField("countdown_max_number", \.countdownMaxNumber, 2...1000)
            intField("countdown_max_target", \.countdownMaxTarget, 2...100_000)
            intField("countdown_train", \.countdownTrain, 10...1_000_000)
            intField("countdown_test", \.countdownTest, 1...100_000)
            intField("general_train", \.generalTrain, 10...1_000_000)
            intField("general_test", \.generalTest, 1...100_000)
            intField("pairs_train", \.pairsTrain, 10...1_000_000)
            intField("pairs_test", \.pairsTest, 1...100_000)
            intField("cold_start_per_task", \.coldStartPerTask, 1...1_000_000)
            intField("vocab_size", \.vocabSize, 300...100_000)
            fields["arithmetic_operations"] = { spec, node in spec.arithmeticOperations = try string(node, "data.arithmetic_operations") }
            fields["preset"] = { spec, node in
                let p = try string(node, "data.preset")
                guard ModelPreset(rawValue: p) != nil else { throw fail("data.preset", "tiny or small", node) }
                spec.preset = p
            }
            for (key, value) in dm {
                guard let name = key.string, let set = fields[name] else {
                    throw fail("data", "keys among \(fields.keys.sorted().joined(separator: ", "))", key)
                }
                try set(&data, value)
            }
        }
        guard let stageNodes = mapping["stages"]?.sequence, !stageNodes.isEmpty else {
            throw fail("stages", "a non-empty list of stages", mapping["stages"])
        }
        var stages: [Stage] = []
        for (i, node) in stageNodes.enumerated() {
            let field = "stages[\(i)]"
            guard let s = node.mapping else { throw fail(field, "a mapping", node) }
            for key in s.keys.compactMap(\.string) where !["name", "trainer", "model", "train_file", "eval_file", "settings"].contains(key) {
                throw fail("\(field).\(key)", "one of name, trainer, model, train_file, eval_file, settings", Node(key))
            }
            let name = try string(s["name"], "\(field).name")
            guard name != "base", name != "data", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }),
                  !stages.contains(where: { $0.name == name }) else {
                throw fail("\(field).name", "a new name of letters, digits, _ or - (not base or data)", s["name"])
            }
            guard let trainer = Trainer(rawValue: try string(s["trainer"], "\(field).trainer")) else {
                throw fail("\(field).trainer", Trainer.allCases.map(\.rawValue).joined(separator: ", "), s["trainer"])
            }
            let model = try string(s["model"], "\(field).model")
            guard model == "base" || stages.contains(where: { $0.name == model && $0.trainer != .sample }) else {
                throw fail("\(field).model", "base or an earlier training stage", s["model"])
            }
            let files = s["train_file"]?.sequence?.compactMap(\.string) ?? s["train_file"]?.string.map { [$0] } ?? []
            for file in files where !R1Data.names.contains(file) && !stages.contains(where: { $0.name == file && $0.trainer == .sample }) {
                throw fail("\(field).train_file", "datasets among \(R1Data.names.joined(separator: ", ")) or earlier sample stages", Node(file))
            }
            guard !files.isEmpty else { throw fail("\(field).train_file", "a dataset name or a list of them", s["train_file"]) }
            let evalFile = try s["eval_file"].map { try string($0, "\(field).eval_file") }
            if let evalFile, !R1Data.names.contains(evalFile) { throw fail("\(field).eval_file", "a dataset name", s["eval_file"]) }
            var settings: [(String, SettingValue)] = []
            if let node = s["settings"] {
                guard let m = node.mapping else { throw fail("\(field).settings", "a mapping", node) }
                settings = try m.map { key, value in (try string(key, "\(field).settings"), SettingsFile.settingValue(value)) }
            }
            stages.append(Stage(name: name, trainer: trainer, model: model, trainFiles: files, evalFile: evalFile, settings: settings))
        }
        let table = mapping["table"]?.sequence?.compactMap(\.string) ?? stages.filter { $0.trainer == .sft || $0.trainer == .grpo }.map(\.name)
        for name in table where !stages.contains(where: { $0.name == name && ($0.trainer == .sft || $0.trainer == .grpo) }) {
            throw fail("table", "names of sft or grpo stages", Node(name))
        }
        guard let judge = try mapping["judge"].map({ try string($0, "judge") }) ?? stages.first(where: { $0.trainer == .rm })?.name,
              stages.contains(where: { $0.name == judge && $0.trainer == .rm }) else {
            throw fail("judge", "the name of an rm stage (its model scores general answers in the table)", mapping["judge"])
        }
        return R1RecipeFile(path: path, out: try mapping["out"].map { try string($0, "out") } ?? "runs/r1",
                            seed: try mapping["seed"].map { try int($0, "seed", 0...Int(Int32.max)) } ?? 1, data: data, stages: stages,
                            table: table, judge: judge)
    }
}
