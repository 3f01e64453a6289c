import ArgumentParser
import Foundation
import Generation
import TensorCore
import Tasks
import Tokenization
import Training

/// `grpo generate`: sample completions with the KV-cache generator.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate completions for a prompt.")

    @Option(help: "A model folder or .gguf file.") var model: String
    @Option(help: "The prompt.") var prompt: String
    @Flag(help: "Wrap the prompt with the model's chat template and generation prompt.") var chat = false
    @Option(help: "Completions to sample.") var numReturn = 1
    @Option(help: "New tokens per completion at most.") var maxNewTokens = 128
    @Option(help: "Sampling temperature (0: greedy).") var temperature: Float = 0.7
    @Option(help: "Nucleus sampling threshold.") var topP: Double = 1
    @Option(help: "Keep the k most likely tokens (0: all).") var topK = 0
    @Option(help: "Min-p threshold.") var minP: Double = 0
    @Option(help: "Seed of the sampler.") var seed: UInt64 = 0
    @Option(help: "Extra stop strings.") var stop: [String] = []
    @Flag(help: "Print one JSON object per completion per line.") var json = false

    func validate() throws {
        guard (1...4096).contains(numReturn) else { throw ValidationError("--num-return must be in 1...4096, got \(numReturn)") }
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be >= 1") }
        guard temperature >= 0, topP > 0, topP <= 1, topK >= 0, minP >= 0, minP <= 1 else {
            throw ValidationError("sampling options out of range (temperature >= 0, 0 < top-p <= 1, top-k >= 0, 0 <= min-p <= 1)")
        }
    }

    func run() throws {
        let bundle = try ModelBundle.load(model)
        let (decoder, tokenizer) = (bundle.model, bundle.tokenizer)
        let text = try PromptFormatter(tokenizer: tokenizer, useChatTemplate: chat, model: model).text(Row(prompt: .text(prompt)), file: "--prompt")
        let ids = try tokenizer.encode(text, addSpecialTokens: !chat).map(Int32.init)
        guard !ids.isEmpty else { throw ValidationError("--prompt encodes to no tokens; give at least one") }
        guard ids.count + maxNewTokens <= decoder.config.maxPositionEmbeddings else {
            throw ValidationError("the prompt's \(ids.count) tokens + --max-new-tokens \(maxNewTokens) exceed the model's "
                                  + "\(decoder.config.maxPositionEmbeddings) positions (max_position_embeddings)")
        }
        let eos = bundle.codec.eosTokenIDs
        let generator = Generator(model: decoder) { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) }
        var rng = SeededGenerator(seed: seed)
        let completions = generator.generate(
            prompts: [[Int32]](repeating: ids, count: numReturn),
            config: .init(maxNewTokens: maxNewTokens, sampling: .init(temperature: temperature, topK: topK, topP: topP, minP: minP),
                          eosTokenIDs: eos, stopStrings: stop),
            rng: &rng)
        for c in completions {
            if json {
                let object: [String: Any] = ["ids": c.ids.map(Int.init), "text": c.text, "finish_reason": c.finishReason.rawValue,
                                             "logprobs": c.logprobs.map(Double.init)]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print(c.text)
                if completions.count > 1 { print("--- (\(c.finishReason.rawValue), \(c.ids.count) tokens)") }
            }
        }
    }
}
