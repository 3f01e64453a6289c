import Foundation
import ModelIO
import TensorCore
import Tokenization
import Transformer

/// A model and its tokenizer, loaded from a Hugging Face folder (config.json, safetensors,
/// tokenizer.json) or a .gguf file, checked to fit each other: every id the tokenizer can produce
/// is a row of the model's embedding (a tokenizer that does not fit is a user's mistake, reported
/// with both sizes, never a crash inside the model).
public struct ModelBundle {
    public let path: String
    public let model: DecoderModel
    public let tokenizer: Tokenizer
    /// Text to ids and back, with the end-of-sequence ids generation stops at.
    public let codec: TokenizerCodec

    public static func isGGUF(_ path: String) -> Bool { path.lowercased().hasSuffix(".gguf") }

    public static func load(_ path: String) throws -> ModelBundle {
        let model = try loadModel(path), tokenizer = try loadTokenizer(path)
        let base = try adapterBase(path) ?? path
        guard tokenizer.vocabSize <= model.config.vocabSize else {
            throw RunSetupError.vocabularyMismatch(model: path, modelVocabulary: model.config.vocabSize,
                                                   tokenizerVocabulary: tokenizer.vocabSize)
        }
        return ModelBundle(path: path, model: model, tokenizer: tokenizer,
                           codec: TokenizerCodec(tokenizer: tokenizer, eosTokenIDs: eosTokenIDs(base, model: model, tokenizer: tokenizer)))
    }

    /// The path of the model a path's weights start from: an adapter folder's base, else the path.
    public static func basePath(of path: String) -> String { ((try? adapterBase(path)) ?? nil) ?? path }

    /// The base model's path of a LoRA adapter folder (PEFT's format), or nil for any other path.
    public static func adapterBase(_ path: String) throws -> String? {
        let url = URL(fileURLWithPath: path)
        guard !isGGUF(path), AdapterCheckpoint.isAdapter(url) else { return nil }
        let base = AdapterCheckpoint.basePath(try AdapterCheckpoint.readConfig(url).basePath, adapter: url)
        guard try adapterBase(base) == nil else {
            throw RunSetupError.notAModel(path: path, reason: "an adapter whose base_model_name_or_path (\(base)) is itself an adapter")
        }
        return base
    }

    /// The model at `path`, refused when a weight is NaN or infinite (it would train to NaN and
    /// generate garbage).
    public static func loadModel(_ path: String) throws -> DecoderModel {
        try checkModelPath(path)
        if let base = try adapterBase(path) {
            let model = try loadModel(base), folder = URL(fileURLWithPath: path)
            let spec = try AdapterCheckpoint.readConfig(folder).spec
            let adapters = try AdapterCheckpoint.loadAdapters(folder, spec: spec, config: model.config)
            try checkFinite(adapters.parameters, path: path)
            return DecoderModel(base: model, adapters: adapters)
        }
        let model = isGGUF(path) ? try GGUFModel.load(url: URL(fileURLWithPath: path))
                                 : try ModelCheckpoint.load(directory: URL(fileURLWithPath: path))
        try checkFinite(model.parameters, path: path)
        return model
    }

    /// Refuses a NaN or infinite weight, naming its tensor and index.
    static func checkFinite(_ parameters: ParameterSet, path: String) throws {
        for t in parameters.tensors {
            let values = UnsafeBufferPointer(start: t.storage.pointer, count: t.count)
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw RunSetupError.nonfiniteWeight(model: path, tensor: t.name, index: index, value: Double(values[index]))
            }
        }
    }

    public static func loadTokenizer(_ path: String) throws -> Tokenizer {
        try checkModelPath(path)
        if let base = try adapterBase(path),
           !FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent("tokenizer.json").path) {
            return try loadTokenizer(base)
        }
        if isGGUF(path) { return try GGUFTokenizer.load(url: URL(fileURLWithPath: path)) }
        return try Tokenizer(url: URL(fileURLWithPath: path).appendingPathComponent("tokenizer.json"))
    }

    /// Refuses a model path that cannot be a model, saying what it is instead.
    static func checkModelPath(_ path: String) throws {
        func refuse(_ reason: String) -> RunSetupError { .notAModel(path: path, reason: reason) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            var link = stat()
            if lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK { throw refuse("a symlink that does not resolve (\(reason))") }
            throw refuse(reason)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            guard !isGGUF(path) else { throw refuse("a folder, not a .gguf file") }
            let folder = URL(fileURLWithPath: path)
            guard !FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path)
                  && !AdapterCheckpoint.isAdapter(folder) else { return }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
            let checkpoints = names.filter { $0.hasPrefix("checkpoint-") }
            if let last = checkpoints.last { throw refuse("a run's output folder (without config.json); its checkpoints are folders such as \(last)") }
            let shown = names.prefix(5).joined(separator: ", ") + (names.count > 5 ? ", ..." : "")
            throw refuse(names.isEmpty ? "an empty folder" : "a folder without config.json (it holds \(shown))")
        }
        guard isGGUF(path) else { throw refuse("a file whose name does not end in .gguf") }
    }

    /// A second copy of the model's weights (a frozen reference policy).
    public func modelCopy() -> DecoderModel { Self.copy(model) }

    /// A copy of a model's weights (without its adapters).
    public static func copy(_ model: DecoderModel) -> DecoderModel {
        let copy = DecoderModel(config: model.config)
        copy.parameters.values.pointer.update(from: model.parameters.values.pointer, count: model.parameters.count)
        return copy
    }

    /// The model a trainer updates: the loaded one, or with use_peft the loaded one frozen under
    /// fresh adapters (A drawn from the seed as PEFT draws it, B zero). A model that already has
    /// adapters (an adapter folder) keeps training them.
    public func trainedModel(_ lora: LoRAConfig, seed: Int) -> DecoderModel { Self.trainedModel(model, lora, seed: seed) }

    /// `model`, or with use_peft `model` frozen under fresh adapters (see the instance method).
    public static func trainedModel(_ model: DecoderModel, _ lora: LoRAConfig, seed: Int) -> DecoderModel {
        guard lora.usePeft || model.adapters != nil else { return model }
        model.parameters.freeze()
        if model.adapters != nil { return model }
        let mixed = UInt64(bitPattern: Int64(seed))
        let adapters = LoRAAdapters(config: model.config, spec: lora.spec, dropoutSeed: mixed ^ 0x6C6F_7261_6472_6F70)
        adapters.initialize(seed: mixed ^ 0x6C6F_7261_696E_6974)
        return DecoderModel(base: model, adapters: adapters)
    }

    /// The frozen reference policy for `policy`: under LoRA the base with the adapters off (the
    /// same weights, not a copy), else a copy of the starting weights.
    public func reference(for policy: DecoderModel) -> DecoderModel {
        policy.adapters != nil ? policy.withoutAdapters : modelCopy()
    }

    /// The folder of tokenizer files that checkpoints copy: the model folder, or for a .gguf start
    /// the tokenizer written into `<outputDir>/tokenizer`.
    public func tokenizerFolder(outputDir: String) throws -> URL {
        guard Self.isGGUF(path) else { return URL(fileURLWithPath: path) }
        let url = URL(fileURLWithPath: outputDir).appendingPathComponent("tokenizer")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try tokenizer.save(to: url)
        return url
    }

    /// End-of-sequence ids: generation_config.json's eos_token_id (an int or a list), else the
    /// config's, else the tokenizer's eos token.
    static func eosTokenIDs(_ path: String, model: DecoderModel, tokenizer: Tokenizer) -> Set<Int32> {
        let fits = { (id: Int) in id >= 0 && id < model.config.vocabSize }
        if !isGGUF(path) {
            let url = URL(fileURLWithPath: path).appendingPathComponent("generation_config.json")
            if let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                if let one = json["eos_token_id"] as? Int, fits(one) { return [Int32(one)] }
                if let list = json["eos_token_id"] as? [Int] { return Set(list.filter(fits).map(Int32.init)) }
            }
        }
        if !model.config.eosTokenIDs.isEmpty { return Set(model.config.eosTokenIDs.filter(fits).map(Int32.init)) }
        return tokenizer.eosTokenID.flatMap { fits($0) ? [Int32($0)] : nil } ?? []
    }
}

/// The tokenizer as the trainers' text codec (no special tokens added; special tokens skipped when
/// decoding).
public struct TokenizerCodec: TextCodec {
    public let tokenizer: Tokenizer
    public let eosTokenIDs: Set<Int32>

    public init(tokenizer: Tokenizer, eosTokenIDs: Set<Int32>) {
        self.tokenizer = tokenizer
        self.eosTokenIDs = eosTokenIDs
    }

    public func encode(_ text: String) throws -> [Int32] {
        try tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
    }

    public func decode(_ ids: [Int32]) -> String {
        tokenizer.decode(ids.map(Int.init), skipSpecialTokens: true)
    }
}
