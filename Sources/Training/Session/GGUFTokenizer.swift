import Foundation
import ModelIO
import Tokenization

/// Builds a byte-level BPE tokenizer from a GGUF file's `tokenizer.ggml.*` metadata.
public enum GGUFTokenizer {
    /// llama.cpp's `tokenizer.ggml.pre` names and the pre-tokenizer each stands for.
    static let preTokenizers: [String: PreTokenizer] = [
        "default": .gpt2, "gpt-2": .gpt2, "gpt2": .gpt2,
        "llama-bpe": .llama3, "llama3": .llama3,
        "qwen2": .qwen2,
        "smollm": .smolLM2, "starcoder": .smolLM2, "refact": .smolLM2,
    ]

    public static func load(url: URL) throws -> Tokenizer {
        let data = try GGUFTokenizerData(file: GGUFFile(url: url))
        guard data.model == "gpt2" else {
            throw TokenizerError.unsupported(file: url.path, component: "tokenizer.ggml.model", type: data.model)
        }
        let preName = data.pre ?? "default"
        guard let pre = preTokenizers[preName] else {
            throw TokenizerError.unsupported(file: url.path, component: "tokenizer.ggml.pre", type: preName)
        }
        var vocab: [String: Int] = [:]
        for (id, token) in data.tokens.enumerated() where vocab[token] == nil { vocab[token] = id }
        let merges = try data.merges.enumerated().map { n, line -> (String, String) in
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.malformed(file: url.path, field: "tokenizer.ggml.merges[\(n)]", reason: "'\(line)' is not 'a b'")
            }
            return (String(parts[0]), String(parts[1]))
        }
        // Control (3) and user-defined (4) tokens are matched before BPE, as llama.cpp does.
        let added = (data.tokenTypes ?? []).enumerated().compactMap { id, type -> AddedToken? in
            guard type == 3 || type == 4, id < data.tokens.count else { return nil }
            return AddedToken(id: id, content: data.tokens[id], special: type == 3)
        }
        let name = { (id: Int?) in id.flatMap { $0 < data.tokens.count ? data.tokens[$0] : nil } }
        var config = TokenizerConfig(bosToken: name(data.bosTokenID), eosToken: name(data.eosTokenID),
                                     padToken: name(data.paddingTokenID), unkToken: name(data.unknownTokenID),
                                     chatTemplate: data.chatTemplate)
        config.chatTemplateFile = url.path
        do {
            return try Tokenizer(vocab: vocab, merges: merges, addedTokens: added, preTokenizer: pre,
                                 postProcessor: .byteLevel(ByteLevelOptions(addPrefixSpace: false, trimOffsets: false, useRegex: true)),
                                 decoder: .byteLevel(ByteLevelOptions()), config: config, file: url.path)
        } catch TokenizerError.malformed(let file, let field, let reason) where field.hasPrefix("model.") {
            // tokenizer.json's model.merges[i] is the GGUF file's tokenizer.ggml.merges[i].
            throw TokenizerError.malformed(file: file, field: "tokenizer.ggml." + field.dropFirst("model.".count), reason: reason)
        }
    }
}
