import Foundation
import ModelIO
import TensorCore
import Transformer

/// A piece of what a checkpoint holds besides the run state: a model with its optimizer moments
/// (the policy; PPO's value model), or adapters.
public protocol CheckpointPart {
    /// Writes the part into the (temporary) checkpoint folder.
    func write(into checkpoint: URL) throws
    /// Loads the part from a checkpoint folder.
    func restore(from checkpoint: URL) throws
}

/// A model and its AdamW moments: a model folder that transformers loads (config.json,
/// model.safetensors, tokenizer files), or for a model with LoRA adapters an adapter folder that
/// PEFT loads on its base (adapter_config.json, adapter_model.safetensors, tokenizer files), plus
/// optimizer.safetensors (exp_avg.<name>, exp_avg_sq.<name> of what trains, fp32; the optimizer's
/// step and the adapters' dropout counter in the metadata), at `subfolder` of the checkpoint ("" for
/// the checkpoint folder itself).
public struct ModelState: CheckpointPart {
    public let model: DecoderModel
    public let optimizer: AdamW
    public let tokenizerSource: URL?
    public let subfolder: String
    /// The base model's path, written into an adapter folder's config.
    public let basePath: String

    public init(model: DecoderModel, optimizer: AdamW, tokenizerSource: URL?, subfolder: String = "", basePath: String = "") {
        self.model = model
        self.optimizer = optimizer
        self.tokenizerSource = tokenizerSource
        self.subfolder = subfolder
        self.basePath = basePath.isEmpty || basePath.hasPrefix("/") ? basePath
            : URL(fileURLWithPath: basePath).standardizedFileURL.path
    }

    func folder(_ checkpoint: URL) -> URL { subfolder.isEmpty ? checkpoint : checkpoint.appendingPathComponent(subfolder) }

    public func write(into checkpoint: URL) throws {
        let folder = folder(checkpoint)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let trained = model.trainable
        if let adapters = model.adapters {
            try AdapterCheckpoint.writeContents(of: adapters, basePath: basePath, into: folder)
            if let tokenizerSource { try ModelCheckpoint.copyTokenizerFiles(from: tokenizerSource, into: folder) }
        } else {
            try ModelCheckpoint.writeContents(of: model, into: folder, dtype: .f32, tokenizerSource: tokenizerSource)
        }
        let moments = trained.tensors.flatMap { t -> [(name: String, tensor: Tensor)] in
            let range = t.storage.pointer - trained.values.pointer
            return [("exp_avg." + t.name, Tensor(shape: t.shape, storage: Storage(viewOf: optimizer.m, offset: range, count: t.count))),
                    ("exp_avg_sq." + t.name, Tensor(shape: t.shape, storage: Storage(viewOf: optimizer.v, offset: range, count: t.count)))]
        }
        try SafeTensorsWriter.write(moments, to: folder.appendingPathComponent("optimizer.safetensors"),
                                    metadata: ["format": "pt", "step": String(optimizer.step), "lora_passes": String(model.adapters?.passes ?? 0)])
    }

    public func restore(from checkpoint: URL) throws {
        let folder = folder(checkpoint)
        let trained = model.trainable
        if let adapters = model.adapters {
            let spec = try AdapterCheckpoint.readConfig(folder).spec
            guard spec == adapters.spec else {
                throw CheckpointError.mismatch(file: folder.appendingPathComponent(AdapterCheckpoint.configFile).path,
                                               reason: "its LoRA settings (\(spec)) differ from the run's (\(adapters.spec))")
            }
            let loaded = try AdapterCheckpoint.loadAdapters(folder, spec: spec, config: model.config)
            trained.values.pointer.update(from: loaded.parameters.values.pointer, count: trained.count)
        } else {
            guard !AdapterCheckpoint.isAdapter(folder) else {
                throw CheckpointError.mismatch(file: folder.path, reason: "it holds LoRA adapters but the run trains the whole model (use_peft is false)")
            }
            let loaded = try ModelCheckpoint.load(directory: folder)
            guard loaded.config == model.config else {
                throw CheckpointError.mismatch(file: folder.appendingPathComponent("config.json").path,
                                               reason: "its model config differs from the run's model")
            }
            trained.values.pointer.update(from: loaded.parameters.values.pointer, count: trained.count)
        }
        let moments = try SafeTensorsFile(url: folder.appendingPathComponent("optimizer.safetensors"))
        for t in trained.tensors {
            let offset = t.storage.pointer - trained.values.pointer
            for (name, buffer) in [("exp_avg.", optimizer.m), ("exp_avg_sq.", optimizer.v)] {
                guard let info = moments.info(name + t.name), info.shape == t.shape else {
                    throw CheckpointError.corrupt(file: moments.url.path, reason: "tensor '\(name + t.name)' missing or misshapen")
                }
                try moments.read(name + t.name, into: buffer.pointer + offset)
            }
        }
        guard let optimizerStep = moments.metadata["step"].flatMap(Int.init), optimizerStep >= 0 else {
            throw CheckpointError.corrupt(file: moments.url.path, reason: "metadata 'step' missing or negative")
        }
        optimizer.restore(step: optimizerStep)
        if let adapters = model.adapters {
            guard let passes = moments.metadata["lora_passes"].flatMap(UInt64.init) else {
                throw CheckpointError.corrupt(file: moments.url.path, reason: "metadata 'lora_passes' missing")
            }
            adapters.passes = passes
        }
    }
}

/// Checkpoints as Hugging Face's Trainer lays them out: `<output_dir>/checkpoint-<step>/` holding
/// the parts (the policy's model folder at the top, so transformers loads the checkpoint itself)
/// and trainer_state.json. Each is written to a temporary folder and renamed into place, so a kill
/// at any moment leaves the previous checkpoint whole.
public enum TrainingCheckpoint {
    static let prefix = "checkpoint-"

    /// The run's output_dir, created if missing: a writable folder on a disk, else an error that
    /// names the path, what it is and what was expected.
    public static func outputFolder(_ path: String) throws -> URL {
        func refuse(_ reason: String) -> CheckpointError { .unwritable(file: path, reason: "output_dir must be a writable folder; \(reason)") }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        for system in ["/proc", "/sys", "/dev"] where url.path == system || url.path.hasPrefix(system + "/") {
            throw refuse("it is inside \(system), a kernel file system")
        }
        if let isFolder = isFolder(url) {
            guard isFolder else { throw refuse("it is a file") }
        } else {
            do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
                throw refuse("it cannot be created (\(creationFailure(url, error)))")
            }
        }
        guard access(url.path, W_OK | X_OK) == 0 else { throw refuse("it is not writable (\(String(cString: strerror(errno))))") }
        return URL(fileURLWithPath: path)
    }

    /// Whether a path is a folder; nil when nothing is there.
    static func isFolder(_ url: URL) -> Bool? {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &folder) ? folder.boolValue : nil
    }

    /// Why a folder could not be created: a file in the way, else the system's reason.
    static func creationFailure(_ url: URL, _ error: Error) -> String {
        var ancestor = url.deletingLastPathComponent()
        while isFolder(ancestor) == nil && ancestor.path != "/" { ancestor = ancestor.deletingLastPathComponent() }
        if isFolder(ancestor) == false { return "\(ancestor.path) is a file" }
        return CheckpointError.systemReason(error) ?? error.localizedDescription
    }

    /// What a killed checkpoint write leaves behind (AtomicFile's `.checkpoint-N.tmp-PID` and
    /// `.checkpoint-N.old-PID` folders): unfinished folders removed, and a replaced checkpoint whose
    /// successor never landed put back. Returns a line for each, for the log.
    public static func removeUnfinishedWrites(_ outputDirectory: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outputDirectory.path) else { return [] }
        var lines: [String] = []
        for name in names.sorted() where name.hasPrefix("." + prefix) {
            let url = outputDirectory.appendingPathComponent(name)
            guard let marker = name.range(of: ".tmp-") ?? name.range(of: ".old-") else { continue }
            let target = outputDirectory.appendingPathComponent(String(name[name.index(after: name.startIndex)..<marker.lowerBound]))
            if name[marker] == ".old-", isFolder(target) == nil, (try? FileManager.default.moveItem(at: url, to: target)) != nil {
                lines.append("restored \(target.lastPathComponent) from \(name), left by a write that was interrupted")
            } else if (try? FileManager.default.removeItem(at: url)) != nil {
                lines.append("removed \(name), an unfinished checkpoint write")
            }
        }
        return lines
    }

    /// Writes checkpoint-<state.step> and removes the oldest beyond `keep` (0 keeps all), only once
    /// the new one is complete. A write that fails (a full disk) is a `CheckpointError.unwritable`
    /// naming the file and saying that `previous`, the run's last checkpoint, is whole.
    @discardableResult
    public static func save(_ parts: [any CheckpointPart], state: TrainerState, outputDirectory: URL, keep: Int,
                            previous: URL? = nil) throws -> URL {
        let folder = outputDirectory.appendingPathComponent("\(prefix)\(state.step)")
        do {
            try AtomicFile.writeDirectory(at: folder) { temp in
                for part in parts { try part.write(into: temp) }
                let data = try JSONSerialization.data(withJSONObject: state.jsonObject(), options: [.prettyPrinted, .sortedKeys])
                try data.write(to: temp.appendingPathComponent("trainer_state.json"))
            }
        } catch {
            let whole = previous.map { "\($0.lastPathComponent) is whole and loads" } ?? "no checkpoint was written before"
            throw CheckpointError.writing(error, fallback: outputDirectory, note: "\(folder.lastPathComponent) was not written and its "
                                          + "unfinished folder removed; \(whole); free space and continue with --resume")
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
            guard name.hasPrefix(prefix), let step = Int(name.dropFirst(prefix.count)), step >= 0 else { return nil }
            return (step, outputDirectory.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Restores every part from the latest checkpoint and returns its state, checked to be the
    /// state of the step its folder names.
    public static func resume(_ parts: [any CheckpointPart], outputDirectory: URL) throws -> (state: TrainerState, folder: URL) {
        guard let latest = try list(outputDirectory).last else { throw CheckpointError.noCheckpoint(directory: outputDirectory.path) }
        let stateURL = latest.url.appendingPathComponent("trainer_state.json")
        guard let data = try? Data(contentsOf: stateURL),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CheckpointError.corrupt(file: stateURL.path, reason: "not a JSON object")
        }
        let state = try TrainerState(json: json, file: stateURL.path)
        guard state.step == latest.step else {
            throw CheckpointError.corrupt(file: stateURL.path, reason: "global_step \(state.step) but the folder is \(prefix)\(latest.step)")
        }
        for part in parts { try part.restore(from: latest.url) }
        return (state, latest.url)
    }
}
