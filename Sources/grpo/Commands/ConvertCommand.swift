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
            tokenizer_config.json, with the chat template, built from its metadata). The output loads in transformers.
            """)

    @Argument(help: "The model to read (a Hugging Face folder or .gguf file).") var input: String
    @Argument(help: "The folder to write (replaced atomically if it exists).") var output: String
    @Option(help: "Weight precision of the written file: f32 or bf16.") var dtype: String = "f32"

    func validate() throws {
        guard SafeTensorsWriter.DType(rawValue: dtype.uppercased()) != nil else {
            throw ValidationError("--dtype must be f32 or bf16, got '\(dtype)'")
        }
    }

    func run() throws {
        let gguf = ModelBundle.isGGUF(input)
        var source = URL(fileURLWithPath: input)
        let model = try ModelBundle.loadModel(input)
        if gguf {
            // The tokenizer files are built from the GGUF metadata into a scratch folder first.
            source = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-convert-\(getpid())")
            try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
            try ModelBundle.loadTokenizer(input).save(to: source)
        }
        defer { if gguf { try? FileManager.default.removeItem(at: source) } }
        let target = URL(fileURLWithPath: output)
        try ModelCheckpoint.save(model, to: target, dtype: SafeTensorsWriter.DType(rawValue: dtype.uppercased())!,
                                 tokenizerSource: source)
        print("wrote \(target.path) (\(model.config.modelType), \(model.config.parameterCount) parameters, \(dtype))")
    }
}
