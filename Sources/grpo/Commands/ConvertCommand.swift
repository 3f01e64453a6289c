import ArgumentParser
import Foundation
import Training
import ModelIO
import Transformer

/// `grpo convert IN OUT_DIR`: reads a model and writes it as a Hugging Face folder.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model as a Hugging Face folder (config.json, model.safetensors, tokenizer files).",
        discussion: """
            IN is a Hugging Face model folder or a .gguf file (weights dequantised to fp32; tokenizer.json and \
            tokenizer_config.json, with the chat template, built from its metadata). The output loads in transformers. \
            A LoRA adapter folder (PEFT's format, e.g. a checkpoint of a run with use_peft) is read with its base model \
            and written with the adapters merged into the weights (W + scaling * B A, as PEFT's merge_and_unload) when \
            --merge-lora is given.
            """)

    @Argument(help: "The model to read (a Hugging Face folder or .gguf file).") var input: String
    @Argument(help: "The folder to write (replaced atomically if it exists).") var output: String
    @Option(help: "Weight precision of the written file: f32 or bf16.") var dtype: String = "f32"
    @Flag(help: "IN is a LoRA adapter folder: write its base with the adapters merged in.") var mergeLora = false

    func validate() throws {
        guard SafeTensorsWriter.DType(rawValue: dtype.uppercased()) != nil else {
            throw ValidationError("--dtype must be f32 or bf16, got '\(dtype)'")
        }
    }

    func run() throws {
        let adapterBase = try ModelBundle.adapterBase(input)
        if adapterBase == nil && mergeLora { throw ValidationError("--merge-lora: \(input) is not a LoRA adapter folder (no adapter_config.json)") }
        if adapterBase != nil && !mergeLora { throw ValidationError("\(input) is a LoRA adapter folder; pass --merge-lora to write merged weights") }
        // The tokenizer files of a .gguf (or of an adapter's base) are written to a scratch folder first.
        let scratchTokenizer = ModelBundle.isGGUF(input) || adapterBase != nil
        var source = URL(fileURLWithPath: input)
        var model = try ModelBundle.loadModel(input)
        if let adapters = model.adapters {
            AdapterCheckpoint.merge(adapters, into: model)
            model = model.withoutAdapters
        }
        if scratchTokenizer {
            // The tokenizer files are built from the GGUF metadata into a scratch folder first.
            source = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-convert-\(getpid())")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try ModelBundle.loadTokenizer(input).save(to: source)
        }
        defer { if scratchTokenizer { try? FileManager.default.removeItem(at: source) } }
        let target = URL(fileURLWithPath: output)
        try ModelCheckpoint.save(model, to: target, dtype: SafeTensorsWriter.DType(rawValue: dtype.uppercased())!,
                                 tokenizerSource: source)
        print("wrote \(target.path) (\(model.config.modelType), \(model.config.parameterCount) parameters, \(dtype))")
    }
}
