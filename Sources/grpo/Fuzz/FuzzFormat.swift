import ArgumentParser
import Foundation
import ModelIO
import Tokenization
import Training
import Transformer
import Tasks

/// A file format a user hands us, with its valid seed inputs and the loading a mutated file goes
/// through (the same calls the commands make).
enum FuzzFormat: String, CaseIterable, ExpressibleByArgument {
    case safetensors, gguf, tokenizer, tokenizerConfig = "tokenizer-config", chatTemplate = "chat-template", config, yaml, jsonl

    /// The name the mutated file is written under (what the loaders expect to find in a model folder).
    var fileName: String {
        switch self {
        case .safetensors: return "model.safetensors"
        case .gguf: return "model.gguf"
        case .tokenizer: return "tokenizer.json"
        case .tokenizerConfig: return "tokenizer_config.json"
        case .chatTemplate: return "chat_template.jinja"
        case .config: return "config.json"
        case .yaml: return "settings.yaml"
        case .jsonl: return "rows.jsonl"
        }
    }

    var isText: Bool { self != .safetensors && self != .gguf }

    /// The generated seeds; `scratch` is a folder for temporary files.
    func seeds(scratch: URL) throws -> [[UInt8]] {
        let tokenizer = try FuzzSeeds.tokenizer()
        switch self {
        case .safetensors:
            let model = FuzzSeeds.model(vocabSize: tokenizer.vocabSize)
            return try [FuzzSeeds.safetensors(model, dtype: .f32, scratch: scratch), FuzzSeeds.safetensors(model, dtype: .bf16, scratch: scratch)]
        case .gguf: return [FuzzSeeds.gguf(FuzzSeeds.model(vocabSize: tokenizer.vocabSize), tokenizer: tokenizer)]
        case .tokenizer: return [Array(try tokenizer.jsonData())]
        case .tokenizerConfig: return [Array(try tokenizer.configJSONData())]
        case .chatTemplate: return [Array(FuzzSeeds.chatTemplate.utf8)]
        case .config: return [try FuzzSeeds.configJSON(FuzzSeeds.modelConfig(vocabSize: tokenizer.vocabSize))]
        case .yaml: return [Array(FuzzSeeds.settingsYAML.utf8)]
        case .jsonl: return [Array(FuzzSeeds.jsonl.utf8)]
        }
    }

    /// Writes the valid files a mutated one is loaded beside (config.json beside model.safetensors,
    /// tokenizer.json beside tokenizer_config.json).
    func prepare(_ folder: URL) throws {
        let tokenizer = try FuzzSeeds.tokenizer()
        switch self {
        case .safetensors:
            try Data(FuzzSeeds.configJSON(FuzzSeeds.modelConfig(vocabSize: tokenizer.vocabSize))).write(to: folder.appendingPathComponent("config.json"))
        case .tokenizerConfig, .chatTemplate:
            try tokenizer.jsonData().write(to: folder.appendingPathComponent("tokenizer.json"))
        default:
            break
        }
    }

    /// The binary fields (lengths, counts, types, offsets) mutations aim at.
    func fields(_ seed: [UInt8]) -> [Mutator.Field] {
        switch self {
        case .safetensors: return [(0, 8)]
        case .gguf: return GGUFFields.walk(seed)
        default: return []
        }
    }

    /// Loads `file` (in `folder`) as the commands do; returns when it is accepted, throws the
    /// loader's error otherwise.
    func load(_ file: URL, folder: URL) throws {
        switch self {
        case .safetensors:
            let tensors = try SafeTensorsFile(url: file)
            for info in tensors.infos where ["F32", "F16", "BF16"].contains(info.dtype) { _ = try tensors.tensor(info.name) }
            _ = try ModelCheckpoint.load(directory: folder)
        case .gguf:
            _ = try GGUFModel.load(url: file)
            let tokenizer = try GGUFTokenizer.load(url: file)
            try use(tokenizer)
        case .tokenizer:
            try use(try Tokenizer(url: file))
        case .tokenizerConfig, .chatTemplate:
            try use(try Tokenizer(url: folder))
        case .config:
            _ = try ModelFamilies.config(at: file)
        case .yaml:
            _ = try GRPOConfig.resolve(try SettingsFile.entries(file.path), readFrom: [file.path])
        case .jsonl:
            _ = try JSONL.read(file)
            _ = try JSONL.read(file, skipBadLines: true)
        }
    }

    /// Encodes and decodes a few texts, and renders the chat template if there is one.
    private func use(_ tokenizer: Tokenizer) throws {
        for text in ["12+34=46", "héllo <|im_start|>user\nhi<|im_end|> 😀", ""] {
            _ = tokenizer.decode(try tokenizer.encode(text))
        }
        if let source = tokenizer.chatTemplate {
            let template = try ChatTemplate(source: source, file: tokenizer.config.chatTemplateFile)
            _ = try template.render(messages: [.init(role: "user", content: "What is 7*8?"), .init(role: "assistant", content: "56")],
                                    addGenerationPrompt: true, extra: ["bos_token": "<|im_start|>", "eos_token": "<|im_end|>"],
                                    now: Date(timeIntervalSince1970: 0), timeZone: TimeZone(identifier: "UTC") ?? .current)
        }
    }
}

/// The positions of a valid GGUF file's length, count, type and offset fields, and of its 4- and
/// 8-byte metadata values (sizes such as `qwen2.block_count`).
enum GGUFFields {
    static func walk(_ bytes: [UInt8]) -> [Mutator.Field] {
        var fields: [Mutator.Field] = [(8, 8), (16, 8)]
        var at = 24
        func u64() -> Int? {
            guard at + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            at += 8
            return Int(exactly: v)
        }
        func u32() -> Int? {
            guard at + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(bytes[at + k]) << (8 * UInt32(k)) }
            at += 4
            return Int(v)
        }
        func string() -> Bool {
            fields.append((at, 8))
            guard let n = u64(), n <= bytes.count - at else { return false }
            at += n
            return true
        }
        func value(_ type: Int) -> Bool {
            switch type {
            case 0, 1, 7: at += 1
            case 2, 3: at += 2
            case 4, 5, 6: fields.append((at, 4)); at += 4
            case 10, 11, 12: fields.append((at, 8)); at += 8
            case 8: return string()
            case 9:
                fields.append((at, 4))
                guard let element = u32() else { return false }
                fields.append((at, 8))
                guard let n = u64(), n <= bytes.count else { return false }
                for _ in 0..<n where at < bytes.count { if !value(element) { return false } }
            default: return false
            }
            return at <= bytes.count
        }
        guard bytes.count >= 24, let tensorCount = Int(exactly: bytes[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }),
              let keyCount = Int(exactly: bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }),
              tensorCount < bytes.count, keyCount < bytes.count else { return fields }
        for _ in 0..<keyCount {
            guard string() else { return fields }
            fields.append((at, 4))
            guard let type = u32(), value(type) else { return fields }
        }
        for _ in 0..<tensorCount {
            guard string() else { return fields }
            fields.append((at, 4))
            guard let rank = u32(), rank <= 4 else { return fields }
            for _ in 0..<rank { fields.append((at, 8)); at += 8 }
            fields.append((at, 4))
            at += 4
            fields.append((at, 8))
            at += 8
        }
        return fields.filter { $0.offset + $0.width <= bytes.count }
    }
}
