import Foundation

/// A finished or running training run read back for `grpo report`: its logged lines (metrics.jsonl,
/// or its event files when it has no metrics.jsonl), its settings (the latest checkpoint's
/// trainer_state.json) and sample completions (completions.jsonl).
public struct RunRecord {
    /// One logged line: a step's metrics, or an evaluation's.
    public struct Line {
        public var step: Int
        public var values: [String: Double]
    }

    public var name: String
    public var lines: [Line]
    /// key: value as the run resolved them.
    public var settings: [(key: String, value: String)]
    /// completions.jsonl rows: step, prompt, completion, rewards, advantage.
    public var completions: [[String: Any]]

    public init(name: String, lines: [Line], settings: [(key: String, value: String)] = [], completions: [[String: Any]] = []) {
        self.name = name
        self.lines = lines
        self.settings = settings
        self.completions = completions
    }

    /// Reads a run folder (a `grpo train` output_dir).
    public static func load(_ directory: URL, name: String? = nil) throws -> RunRecord {
        let metrics = directory.appendingPathComponent("metrics.jsonl")
        var lines: [Line]
        if FileManager.default.fileExists(atPath: metrics.path) {
            lines = try jsonLines(metrics).compactMap { object in
                guard let step = object["step"] as? Int else { return nil }
                var values: [String: Double] = [:]
                for (key, value) in object where key != "step" { values[key] = (value as? Double) ?? .nan }
                return Line(step: step, values: values)
            }
        } else {
            let files = EventFileReader.files(in: directory)
            guard !files.isEmpty else {
                throw TrackingError.notARun(directory: directory.path, reason: "no metrics.jsonl and no events.out.tfevents.* file")
            }
            lines = try files.flatMap { try EventFileReader.read($0).events }.filter { !$0.scalars.isEmpty }.map { event in
                Line(step: Int(event.step), values: Dictionary(event.scalars.map { (untagged($0.tag), Double($0.value)) },
                                                               uniquingKeysWith: { _, last in last }))
            }
        }
        let completionsURL = directory.appendingPathComponent("completions.jsonl")
        let completions = FileManager.default.fileExists(atPath: completionsURL.path) ? try jsonLines(completionsURL) : []
        return RunRecord(name: name ?? directory.lastPathComponent, lines: lines, settings: settings(directory), completions: completions)
    }

    /// A TRL run's trainer_state.json: its log_history as lines (the keys TRL logs are ours).
    public static func loadTrainerState(_ url: URL, name: String? = nil) throws -> RunRecord {
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let history = json["log_history"] as? [[String: Any]] else {
            throw TrackingError.unreadable(file: url.path, reason: "not a trainer_state.json with a log_history list")
        }
        let lines = history.compactMap { entry -> Line? in
            guard let step = entry["step"] as? Int else { return nil }
            var values: [String: Double] = [:]
            for (key, value) in entry where key != "step" {
                guard let number = value as? Double else { continue }
                values[key.hasPrefix("eval_") ? "eval/" + key.dropFirst(5) : key] = number
            }
            return Line(step: step, values: values)
        }
        return RunRecord(name: name ?? "TRL " + url.deletingLastPathComponent().lastPathComponent, lines: lines)
    }

    /// The metric name of a TensorBoard tag (train/ dropped).
    static func untagged(_ tag: String) -> String { tag.hasPrefix("train/") ? String(tag.dropFirst(6)) : tag }

    static func jsonLines(_ url: URL) throws -> [[String: Any]] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw TrackingError.unreadable(file: url.path, reason: "not UTF-8 text")
        }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The settings in the latest checkpoint's trainer_state.json, sorted by key.
    static func settings(_ directory: URL) -> [(key: String, value: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let latest = names.compactMap { name -> (Int, String)? in
            name.hasPrefix("checkpoint-") ? Int(name.dropFirst(11)).map { ($0, name) } : nil
        }.max { $0.0 < $1.0 }
        guard let latest,
              let data = try? Data(contentsOf: directory.appendingPathComponent(latest.1).appendingPathComponent("trainer_state.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let config = json["config"] as? [String: Any] else { return [] }
        return config.map { ($0.key, "\($0.value)") }.sorted { $0.key < $1.key }
    }

    /// (x, value) for every line holding `key`; x is the step, or training time when `time`.
    public func series(_ key: String, time: Bool) -> [(x: Double, y: Double)] {
        lines.compactMap { line in
            guard let y = line.values[key] else { return nil }
            let x = time ? line.values["train_time"] ?? line.values["wall_time"] : Double(line.step)
            return x.map { ($0, y) }
        }
    }

    /// Every metric name the run logged.
    public var keys: Set<String> { Set(lines.flatMap(\.values.keys)) }
}
