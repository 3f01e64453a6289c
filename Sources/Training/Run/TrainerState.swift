import Foundation
import TensorCore

/// What a trainer needs besides weights and optimizer moments to continue exactly where it stopped:
/// trainer_state.json in each checkpoint folder.
public struct TrainerState: Sendable {
    /// Optimizer steps taken.
    public var step: Int
    /// Named generator states (e.g. "sampling"), each four words plus the spare normal.
    public var generators: [String: SeededGenerator]
    /// Where the data order stands: epoch and index within it.
    public var epoch: Int
    public var position: Int
    /// The resolved settings, as written (for reference; a resume uses the config it is given).
    public var config: [(key: String, value: SettingValue)]
    /// Numbers the trainer wants back (best accuracy so far, tokens seen, ...).
    public var counters: [String: Double]
    /// The run's clocks when this checkpoint was written (`wall_time`, `train_time`), so a resumed run's
    /// clocks, learning curves and max_train_time go on from them. Not part of a run's result: two equal
    /// runs differ here.
    public var clocks: [String: Double] = [:]

    public init(step: Int = 0, generators: [String: SeededGenerator] = [:], epoch: Int = 0, position: Int = 0,
                config: [(key: String, value: SettingValue)] = [], counters: [String: Double] = [:]) {
        self.step = step
        self.generators = generators
        self.epoch = epoch
        self.position = position
        self.config = config
        self.counters = counters
    }

    func jsonObject() -> [String: Any] {
        [
            "global_step": step,
            "epoch": epoch,
            "position": position,
            "generators": generators.mapValues { g -> [String: Any] in
                // UInt64 words as strings: JSON numbers are doubles for most readers.
                ["state": g.state.map { String($0) }, "spare_normal": g.spareNormal.map { $0 as Any } ?? NSNull()]
            },
            "config": Dictionary(config.map { ($0.key, $0.value.jsonObject) }, uniquingKeysWith: { a, _ in a }),
            "counters": counters,
            "clocks": clocks,
        ]
    }

    init(json: [String: Any], file: String) throws {
        func bad(_ field: String) -> CheckpointError { .corrupt(file: file, reason: "field '\(field)' missing or malformed") }
        guard let step = json["global_step"] as? Int, step >= 0 else { throw bad("global_step") }
        guard let epoch = json["epoch"] as? Int, let position = json["position"] as? Int, epoch >= 0, position >= 0 else {
            throw bad("epoch/position")
        }
        var generators: [String: SeededGenerator] = [:]
        for (name, value) in json["generators"] as? [String: Any] ?? [:] {
            guard let entry = value as? [String: Any], let words = entry["state"] as? [String],
                  let g = SeededGenerator(state: words.compactMap { UInt64($0) }, spareNormal: entry["spare_normal"] as? Double)
            else { throw bad("generators.\(name)") }
            generators[name] = g
        }
        self.init(step: step, generators: generators, epoch: epoch, position: position,
                  config: [], counters: (json["counters"] as? [String: Double]) ?? [:])
        clocks = ((json["clocks"] as? [String: Double]) ?? [:]).filter { $0.value.isFinite && $0.value >= 0 }
    }
}
