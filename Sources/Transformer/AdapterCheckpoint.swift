import Foundation
import ModelIO
import TensorCore

/// LoRA adapter folders in PEFT's format: adapter_config.json (LoraConfig's fields) and
/// adapter_model.safetensors (`base_model.model.<module>.lora_A.weight` / `lora_B.weight`), which
/// `PeftModel.from_pretrained(base, folder)` loads, and which this reads back, PEFT's own included.
public enum AdapterCheckpoint {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"

    /// Whether a folder holds an adapter rather than a whole model.
    public static func isAdapter(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(configFile).path)
            && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path)
    }

    /// An adapter folder's settings and its base model's path as written (relative paths are
    /// relative to the folder, as a user would write them there; PEFT takes them from the working
    /// directory or the Hub).
    public static func readConfig(_ directory: URL) throws -> (spec: LoRAAdapters.Spec, basePath: String) {
        let json = try JSONConfig(url: directory.appendingPathComponent(configFile))
        let file = json.file
        func unsupported(_ field: String, _ value: Any) -> ModelIOError { .unsupported(file: file, field: field, value: "\(value)") }
        let peftType = try json.optionalString("peft_type") ?? ""
        guard peftType == "LORA" else { throw ModelIOError.config(file: file, field: "peft_type", reason: "expected \"LORA\", got \"\(peftType)\"") }
        let rank = try json.int("r")
        guard (1...4096).contains(rank) else { throw ModelIOError.config(file: file, field: "r", reason: "expected 1...4096, got \(rank)") }
        let alpha = try json.optionalDouble("lora_alpha") ?? 8
        guard alpha.isFinite else { throw ModelIOError.config(file: file, field: "lora_alpha", reason: "expected a finite number, got \(alpha)") }
        let dropout = try json.optionalDouble("lora_dropout") ?? 0
        guard dropout >= 0 && dropout < 1 else {
            throw ModelIOError.config(file: file, field: "lora_dropout", reason: "expected [0, 1), got \(dropout)")
        }
        // Variants this reader does not implement are refused by name rather than loaded wrong.
        if try json.optionalBool("use_dora") == true { throw unsupported("use_dora", true) }
        if try json.optionalBool("fan_in_fan_out") == true { throw unsupported("fan_in_fan_out", true) }
        if let bias = try json.optionalString("bias"), bias != "none" { throw unsupported("bias", bias) }
        for field in ["rank_pattern", "alpha_pattern"] {
            if let pattern = json.values[field] as? [String: Any], !pattern.isEmpty { throw unsupported(field, pattern) }
        }
        for field in ["layers_to_transform", "modules_to_save", "layer_replication"] where json.has(field) {
            if let list = json.values[field] as? [Any], list.isEmpty { continue }
            throw unsupported(field, json.values[field] ?? "")
        }
        let targets = try targetModules(json)
        let base = try json.optionalString("base_model_name_or_path") ?? ""
        guard !base.isEmpty else {
            throw ModelIOError.config(file: file, field: "base_model_name_or_path", reason: "expected the base model's path, got none")
        }
        let spec = LoRAAdapters.Spec(rank: rank, alpha: alpha, useRSLoRA: try json.optionalBool("use_rslora") ?? false,
                                     dropout: dropout, targets: targets)
        return (spec, base)
    }

    /// target_modules: "all-linear", or a list of names (q_proj) or module paths
    /// (model.layers.0.self_attn.q_proj, as PEFT writes "all-linear" out), which must then name
    /// the same modules in every layer.
    static func targetModules(_ json: JSONConfig) throws -> [LoRAAdapters.Module] {
        let field = "target_modules"
        if let single = json.values[field] as? String {
            guard single == "all-linear" else {
                throw ModelIOError.unsupported(file: json.file, field: field, value: "\"\(single)\" (a pattern; expected a list of names or \"all-linear\")")
            }
            return LoRAAdapters.Module.allCases
        }
        guard let names = try json.optionalStringList(field), !names.isEmpty else {
            throw ModelIOError.config(file: json.file, field: field, reason: "expected a list of module names or \"all-linear\"")
        }
        var modules = Set<LoRAAdapters.Module>()
        for name in names {
            let last = name.split(separator: ".").last.map(String.init) ?? name
            guard let module = LoRAAdapters.Module(rawValue: last) else {
                throw ModelIOError.unsupported(file: json.file, field: field, value: "\"\(name)\" (expected one of "
                                               + LoRAAdapters.Module.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            modules.insert(module)
        }
        return LoRAAdapters.Module.allCases.filter(modules.contains)
    }

    /// The adapters of a folder for `base`'s config: every tensor present with its shape, every
    /// tensor of the file used.
    public static func loadAdapters(_ directory: URL, spec: LoRAAdapters.Spec, config: DecoderConfig) throws -> LoRAAdapters {
        let url = directory.appendingPathComponent(weightsFile)
        let file = try SafeTensorsFile(url: url)
        let adapters = LoRAAdapters(config: config, spec: spec)
        var unused = Set(file.names)
        for t in adapters.parameters.tensors {
            guard let info = file.info(t.name) else { throw ModelIOError.missingTensor(file: url.path, tensor: t.name) }
            guard info.shape == t.shape else {
                throw ModelIOError.badTensor(file: url.path, tensor: t.name, reason: "shape \(info.shape), expected \(t.shape)")
            }
            try file.read(t.name, into: t.data)
            unused.remove(t.name)
        }
        if !unused.isEmpty { throw ModelIOError.unusedTensors(file: url.path, tensors: unused.sorted()) }
        return adapters
    }

    /// The base model folder or file an adapter names, resolved against the adapter's folder when relative.
    public static func basePath(_ written: String, adapter directory: URL) -> String {
        written.hasPrefix("/") ? written : directory.appendingPathComponent(written).standardizedFileURL.path
    }

    /// Writes adapter_config.json and adapter_model.safetensors (fp32) into an existing folder.
    public static func writeContents(of adapters: LoRAAdapters, basePath: String, into folder: URL) throws {
        let spec = adapters.spec
        let config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": basePath,
            "r": spec.rank, "lora_alpha": spec.alpha, "lora_dropout": spec.dropout, "use_rslora": spec.useRSLoRA,
            "target_modules": spec.targets.map(\.rawValue), "bias": "none", "fan_in_fan_out": false, "use_dora": false,
            "init_lora_weights": true, "inference_mode": true, "modules_to_save": NSNull(), "rank_pattern": [String: Any](),
            "alpha_pattern": [String: Any](), "layers_to_transform": NSNull(), "revision": NSNull(),
        ]
        try ModelCheckpoint.writeJSON(config, to: folder.appendingPathComponent(configFile))
        try SafeTensorsWriter.write(adapters.parameters.tensors.map { (name: $0.name, tensor: $0) },
                                    to: folder.appendingPathComponent(weightsFile), metadata: ["format": "pt"])
    }

    /// Folds the adapters into the base weights: W += scaling * B A for every targeted layer, as
    /// PEFT's `merge_and_unload`. The model's own weights change (it is the base of `adapters`).
    public static func merge(_ adapters: LoRAAdapters, into model: DecoderModel) {
        let spec = adapters.spec
        for l in 0..<model.config.layerCount {
            for module in spec.targets {
                guard let w = model.parameters[LoRAAdapters.baseWeightName(layer: l, module)],
                      let a = adapters.parameters[LoRAAdapters.name(layer: l, module, "lora_A")],
                      let b = adapters.parameters[LoRAAdapters.name(layer: l, module, "lora_B")] else { continue }
                // W (Out, In) += scaling * B (Out, r) A (r, In)
                GEMM.sgemm(transA: false, transB: false, m: w.shape[0], n: w.shape[1], k: spec.rank, alpha: spec.scaling,
                           a: b.data, lda: spec.rank, b: a.data, ldb: w.shape[1], beta: 1, c: w.data, ldc: w.shape[1])
            }
        }
    }
}
