import Foundation
import ModelIO
import TensorCore
import Transformer

/// Checkpoints as Hugging Face's Trainer lays them out: `<output_dir>/checkpoint-<step>/` holding a
/// model folder that transformers loads, trainer_state.json and optimizer.safetensors (AdamW
/// moments, fp32). Each is written to a temporary folder and renamed into place, so a kill at any
/// moment leaves the previous checkpoint whole.
public enum TrainingCheckpoint {
    static let prefix = "checkpoint-"

    /// Writes checkpoint-<state.step> and removes the oldest beyond `keep` (0 keeps all).
    @discardableResult
    public static func save(model: DecoderModel, optimizer: AdamW, state: TrainerState, outputDirectory: URL,
                            tokenizerSource: URL?, keep: Int) throws -> URL {
        let folder = outputDirectory.appendingPathComponent("\(prefix)\(state.step)")
        try AtomicFile.writeDirectory(at: folder) { temp in
            try ModelCheckpoint.writeContents(of: model, into: temp, dtype: .f32, tokenizerSource: tokenizerSource)
            let moments = model.parameters.tensors.flatMap { t -> [(name: String, tensor: Tensor)] in
                let range = t.storage.pointer - model.parameters.values.pointer
                return [("exp_avg." + t.name, Tensor(shape: t.shape, storage: Storage(viewOf: optimizer.m, offset: range, count: t.count))),
                        ("exp_avg_sq." + t.name, Tensor(shape: t.shape, storage: Storage(viewOf: optimizer.v, offset: range, count: t.count)))]
            }
            try SafeTensorsWriter.write(moments, to: temp.appendingPathComponent("optimizer.safetensors"),
                                        metadata: ["format": "pt", "step": String(optimizer.step)])
            let data = try JSONSerialization.data(withJSONObject: state.jsonObject(), options: [.prettyPrinted, .sortedKeys])
            try data.write(to: temp.appendingPathComponent("trainer_state.json"))
        }
        if keep > 0 {
            for old in try list(outputDirectory).dropLast(keep) { try? FileManager.default.removeItem(at: old.url) }
        }
        return folder
    }

    /// The checkpoint folders of a run, oldest first.
    public static func list(_ outputDirectory: URL) throws -> [(step: Int, url: URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path) else { return [] }
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix(prefix), let step = Int(name.dropFirst(prefix.count)) else { return nil }
            return (step, outputDirectory.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Loads the latest checkpoint's weights into `model`, its moments into `optimizer`, and returns
    /// its state.
    public static func resume(model: DecoderModel, optimizer: AdamW, outputDirectory: URL) throws -> TrainerState {
        guard let latest = try list(outputDirectory).last else { throw CheckpointError.noCheckpoint(directory: outputDirectory.path) }
        let loaded = try ModelCheckpoint.load(directory: latest.url)
        guard loaded.config == model.config else {
            throw CheckpointError.mismatch(file: latest.url.appendingPathComponent("config.json").path,
                                           reason: "its model config differs from the run's model")
        }
        model.parameters.values.pointer.update(from: loaded.parameters.values.pointer, count: model.parameters.count)
        let moments = try SafeTensorsFile(url: latest.url.appendingPathComponent("optimizer.safetensors"))
        for t in model.parameters.tensors {
            let offset = t.storage.pointer - model.parameters.values.pointer
            for (name, buffer) in [("exp_avg.", optimizer.m), ("exp_avg_sq.", optimizer.v)] {
                guard let info = moments.info(name + t.name), info.shape == t.shape else {
                    throw CheckpointError.corrupt(file: moments.url.path, reason: "tensor '\(name + t.name)' missing or misshapen")
                }
                try moments.read(name + t.name, into: buffer.pointer + offset)
            }
        }
        let stateURL = latest.url.appendingPathComponent("trainer_state.json")
        guard let data = try? Data(contentsOf: stateURL),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CheckpointError.corrupt(file: stateURL.path, reason: "not a JSON object")
        }
        let state = try TrainerState(json: json, file: stateURL.path)
        guard let optimizerStep = moments.metadata["step"].flatMap(Int.init) else {
            throw CheckpointError.corrupt(file: moments.url.path, reason: "metadata 'step' missing")
        }
        optimizer.restore(step: optimizerStep)
        return state
    }
}
