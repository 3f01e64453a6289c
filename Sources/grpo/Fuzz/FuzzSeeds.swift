import Foundation
import ModelIO
import TensorCore
import Tokenization
import Transformer

/// Small valid inputs of every fuzzed format, generated the same way every time: a byte-level BPE
/// tokenizer with a ChatML template, a one-layer Qwen2 decoder of hidden size 8 over it (config.json,
/// safetensors in F32 and BF16, GGUF with the tokenizer in its metadata), a training settings file and
/// JSONL rows of each kind.
enum FuzzSeeds {
    static let chatTemplate = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
        """

    static func tokenizer() throws -> Tokenizer {
        let texts = ["12+34=46", "What is 7 times 8? The answer is 56.", "def add(a, b):\n    return a + b\n", "héllo wörld 😀"]
        let config = TokenizerConfig(bosToken: "<|im_start|>", eosToken: "<|im_end|>", padToken: "<|endoftext|>",
                                     chatTemplate: chatTemplate, modelMaxLength: 64)
        return try BPETrainer(vocabSize: 300, specialTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]).train(texts, config: config)
    }

    static func modelConfig(vocabSize: Int) -> DecoderConfig {
        DecoderConfig(modelType: "qwen2", vocabSize: vocabSize, hiddenSize: 8, intermediateSize: 16, layerCount: 1, headCount: 2,
                      kvHeadCount: 1, rmsNormEps: 1e-6, ropeTheta: 10_000, tieWordEmbeddings: true, qkvBias: true,
                      maxPositionEmbeddings: 64, bosTokenID: 1, eosTokenIDs: [2])
    }

    /// The decoder with small deterministic weights.
    static func model(vocabSize: Int) -> DecoderModel {
        let model = DecoderModel(config: modelConfig(vocabSize: vocabSize))
        for t in model.parameters.tensors {
            for i in 0..<t.count { t.data[i] = Float((i * 7 + t.count) % 13 - 6) * 0.01 }
        }
        return model
    }

    static func configJSON(_ config: DecoderConfig) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: ModelCheckpoint.configJSON(config), options: [.prettyPrinted, .sortedKeys]))
    }

    static func safetensors(_ model: DecoderModel, dtype: SafeTensorsWriter.DType, scratch: URL) throws -> [UInt8] {
        let url = scratch.appendingPathComponent("seed-\(dtype.rawValue).safetensors")
        try SafeTensorsWriter.write(model.parameters.tensors.map { ($0.name, $0) }, to: url, dtype: dtype)
        defer { try? FileManager.default.removeItem(at: url) }
        return Array(try Data(contentsOf: url))
    }

    /// A Qwen2 GGUF file with the model's weights (F32) and the tokenizer in `tokenizer.ggml.*`.
    static func gguf(_ model: DecoderModel, tokenizer: Tokenizer) -> [UInt8] {
        let c = model.config
        var builder = GGUFBuilder(architecture: "qwen2")
        builder.add("qwen2.embedding_length", .uint32(UInt32(c.hiddenSize)))
        builder.add("qwen2.feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        builder.add("qwen2.block_count", .uint32(UInt32(c.layerCount)))
        builder.add("qwen2.attention.head_count", .uint32(UInt32(c.headCount)))
        builder.add("qwen2.attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        builder.add("qwen2.attention.layer_norm_rms_epsilon", .float32(c.rmsNormEps))
        builder.add("qwen2.rope.freq_base", .float32(c.ropeTheta))
        builder.add("qwen2.context_length", .uint32(UInt32(c.maxPositionEmbeddings)))
        let tokens = (0..<tokenizer.vocabSize).map { tokenizer.token(for: $0) ?? "<unused\($0)>" }
        builder.add("tokenizer.ggml.model", .string("gpt2"))
        builder.add("tokenizer.ggml.pre", .string("qwen2"))
        builder.add("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) }))
        builder.add("tokenizer.ggml.merges", .array(.string, tokenizer.model.merges.map { .string("\($0.0) \($0.1)") }))
        builder.add("tokenizer.ggml.token_type", .array(.int32, (0..<tokens.count).map { .int32(tokenizer.specialTokenIDs.contains($0) ? 3 : 1) }))
        builder.add("tokenizer.ggml.bos_token_id", .uint32(1))
        builder.add("tokenizer.ggml.eos_token_id", .uint32(2))
        builder.add("tokenizer.chat_template", .string(chatTemplate))
        for t in model.parameters.tensors {
            builder.addF32(GGUFTensorNames.llamaCpp(t.name) ?? t.name, shape: t.shape,
                           values: Array(UnsafeBufferPointer(start: t.data, count: t.count)))
        }
        return builder.bytes()
    }

    static let settingsYAML = """
        # GRPO settings as the recipes write them
        model: runs/sft/checkpoint-340
        train_file: data/train.jsonl
        eval_file: data/test.jsonl
        output_dir: runs/grpo
        seed: 1
        max_steps: 2000
        per_device_train_batch_size: 64
        num_generations: 8
        max_completion_length: 48
        temperature: 1.0
        learning_rate: 5.0e-5
        lr_scheduler_type: constant
        beta: 0.0
        loss_type: dapo
        reward_funcs: [math_answer]
        eval_steps: 100
        save_steps: 2000
        save_total_limit: 1
        log_completions: true        # a comment
        verifier: math_answer

        """

    static let jsonl = """
        {"prompt": "12+34=", "answer": "46", "completion": "46"}
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 7*8?"}], "answer": 56}
        {"prompt": "Write add(a, b).", "tests": ["assert add(1, 2) == 3"], "entry_point": "add", "numbers": [1, 2.5, -3]}

        {"prompt": "héllo 😀", "chosen": "yes", "rejected": "no", "meta": {"source": "hand", "ok": true, "n": null}}

        """
}
