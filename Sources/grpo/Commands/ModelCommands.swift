import ArgumentParser
import Foundation
import Training
import Tasks
import Tokenization
import Transformer

/// `grpo tokenizer train`: a byte-level BPE tokenizer trained in Swift.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenizer", abstract: "Tokenizer tools.",
                                                    subcommands: [TrainTokenizer.self, EncodeText.self])
}

/// `grpo tokenizer encode`: token ids of a text, as JSON (for parity checks).
struct EncodeText: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encode", abstract: "Print the token ids of a text as a JSON list.")
    @Option(help: "A tokenizer.json, a model folder or a .gguf file.") var tokenizer: String
    @Option(help: "The text.") var text: String
    @Flag(help: "Apply the post-processor (e.g. a bos token).") var addSpecialTokens = false

    func run() throws {
        let tok = ModelBundle.isGGUF(tokenizer) ? try ModelBundle.loadTokenizer(tokenizer) : try Tokenizer(url: URL(fileURLWithPath: tokenizer))
        print("[" + (try tok.encode(text, addSpecialTokens: addSpecialTokens)).map(String.init).joined(separator: ", ") + "]")
    }
}

struct TrainTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer (tokenizer.json that Hugging Face tokenizers loads).",
        discussion: "Corpus files are JSONL (every prompt and completion is used) or plain text (one document per line).")

    @Option(parsing: .upToNextOption, help: "Corpus files.") var corpus: [String]
    @Option(help: "Vocabulary size (at least 256 + the special tokens).") var vocabSize = 512
    @Option(parsing: .upToNextOption, help: "Special tokens; the first is the end-of-sequence token.")
    var specialTokens: [String] = ["<|endoftext|>"]
    @Option(parsing: .upToNextOption, help: "Tokens kept whole that are ordinary text (e.g. <think> </think>).")
    var addedTokens: [String] = []
    @Option(help: "Output folder.") var out: String

    func validate() throws {
        guard !corpus.isEmpty else { throw ValidationError("--corpus needs at least one file") }
        let added = specialTokens.count + addedTokens.count
        guard vocabSize >= 256 + added else { throw ValidationError("--vocab-size must be at least \(256 + added)") }
    }

    func run() throws {
        let texts = try corpus.flatMap(Self.texts)
        let tokenizer = try Self.train(texts: texts, vocabSize: vocabSize, specialTokens: specialTokens, addedTokens: addedTokens)
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try tokenizer.save(to: url)
        print("wrote \(url.appendingPathComponent("tokenizer.json").path): \(tokenizer.vocabSize) tokens from \(texts.count) documents")
    }

    static func train(texts: [String], vocabSize: Int, specialTokens: [String], addedTokens: [String] = []) throws -> Tokenizer {
        try BPETrainer(vocabSize: vocabSize, specialTokens: specialTokens, addedTokens: addedTokens)
            .train(texts, config: TokenizerConfig(eosToken: specialTokens.first, padToken: specialTokens.first))
    }

    /// The documents of a corpus file.
    static func texts(_ path: String) throws -> [String] {
        if path.hasSuffix(".jsonl") {
            return try DatasetFile.rows(path).flatMap { row -> [String] in
                let prompt: String
                switch row.prompt {
                case .text(let text): prompt = text
                case .messages(let messages): prompt = messages.map(\.content).joined(separator: "\n")
                }
                return [prompt] + (row.completionText.map { [$0] } ?? [])
            }
        }
        let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}

/// `grpo model init`: a random model of a preset size saved as a Hugging Face folder.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Model tools.", subcommands: [InitModel.self])
}

struct InitModel: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init",
                                                    abstract: "Create a random Qwen2-family model (tiny or small preset) for a tokenizer.")

    @Option(help: "tiny (hidden 256, 4 layers, 4 heads, 2 KV heads, intermediate 768) or small.") var preset = "tiny"
    @Option(help: "Folder holding tokenizer.json (copied into the model folder).") var tokenizer: String
    @Option(help: "Output folder.") var out: String
    @Option(help: "Seed of the initialisation.") var seed: UInt64 = 0

    func validate() throws {
        guard ModelPreset(rawValue: preset) != nil else {
            throw ValidationError("unknown --preset '\(preset)'; known: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let model = try Self.create(preset: ModelPreset(rawValue: preset)!, tokenizerFolder: URL(fileURLWithPath: tokenizer), seed: seed)
        try ModelCheckpoint.save(model, to: URL(fileURLWithPath: out), tokenizerSource: URL(fileURLWithPath: tokenizer))
        print("wrote \(out): \(preset) preset, \(model.config.parameterCount) parameters, vocab \(model.config.vocabSize)")
    }

    static func create(preset: ModelPreset, tokenizerFolder: URL, seed: UInt64) throws -> DecoderModel {
        let tok = try Tokenizer(url: tokenizerFolder)
        let config = preset.config(vocabSize: tok.vocabSize, bosTokenID: tok.bosTokenID, eosTokenIDs: tok.eosTokenID.map { [$0] } ?? [])
        let model = DecoderModel(config: config)
        model.initialize(seed: seed)
        return model
    }
}
