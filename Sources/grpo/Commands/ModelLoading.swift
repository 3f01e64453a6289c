import ArgumentParser
import Foundation
import Tokenization
import Training
import Transformer

/// Loading what `--model` names: a Hugging Face folder (config.json, safetensors, tokenizer.json)
/// or a .gguf file.
enum ModelLoading {
    static func isGGUF(_ path: String) -> Bool { path.lowercased().hasSuffix(".gguf") }

    static func model(_ path: String) throws -> DecoderModel {
        if isGGUF(path) { return try GGUFModel.load(url: URL(fileURLWithPath: path)) }
        return try ModelCheckpoint.load(directory: URL(fileURLWithPath: path))
    }

    static func tokenizer(_ path: String) throws -> Tokenizer {
        if isGGUF(path) { return try GGUFTokenizer.load(url: URL(fileURLWithPath: path)) }
        return try Tokenizer(url: URL(fileURLWithPath: path).appendingPathComponent("tokenizer.json"))
    }

    /// The model and its tokenizer.
    static func modelAndTokenizer(_ path: String) throws -> (DecoderModel, Tokenizer) {
        (try model(path), try tokenizer(path))
    }

    /// End-of-sequence ids: generation_config.json's eos_token_id (an int or a list), else the
    /// config's, else the tokenizer's eos token.
    static func eosTokenIDs(_ path: String, model: DecoderModel, tokenizer: Tokenizer) -> Set<Int32> {
        if !isGGUF(path) {
            let url = URL(fileURLWithPath: path).appendingPathComponent("generation_config.json")
            if let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                if let one = json["eos_token_id"] as? Int { return [Int32(one)] }
                if let list = json["eos_token_id"] as? [Int] { return Set(list.map(Int32.init)) }
            }
        }
        if !model.config.eosTokenIDs.isEmpty { return Set(model.config.eosTokenIDs.map(Int32.init)) }
        return tokenizer.eosTokenID.map { [Int32($0)] } ?? []
    }
}

/// The tokenizer as the trainers' text codec.
struct TokenizerCodec: TextCodec {
    let tokenizer: Tokenizer
    let eosTokenIDs: Set<Int32>

    func encode(_ text: String) throws -> [Int32] {
        try tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
    }

    func decode(_ ids: [Int32]) -> String {
        tokenizer.decode(ids.map(Int.init), skipSpecialTokens: true)
    }
}
