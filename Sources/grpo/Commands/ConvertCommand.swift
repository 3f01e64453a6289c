import ArgumentParser
import Foundation
import ModelIO
import Transformer

/// `grpo convert IN OUT_DIR`: reads a model and writes it as a Hugging Face folder.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model as a Hugging Face folder (config.json, model.safetensors, tokenizer files).",
        discussion: "IN is a Hugging Face model folder. The output loads in transformers with the same logits."
    )

    @Argument(help: "The model to read (a Hugging Face folder).") var input: String
    @Argument(help: "The folder to write (replaced atomically if it exists).") var output: String
    @Option(help: "Weight precision of the written file: f32 or bf16.") var dtype: String = "f32"

    func validate() throws {
        guard SafeTensorsWriter.DType(rawValue: dtype.uppercased()) != nil else {
            throw ValidationError("--dtype must be f32 or bf16, got '\(dtype)'")
        }
    }

    func run() throws {
        let source = URL(fileURLWithPath: input)
        let model = try ModelCheckpoint.load(directory: source)
        let target = URL(fileURLWithPath: output)
        try ModelCheckpoint.save(model, to: target, dtype: SafeTensorsWriter.DType(rawValue: dtype.uppercased())!,
                                 tokenizerSource: source)
        print("wrote \(target.path) (\(model.config.modelType), \(model.config.parameterCount) parameters, \(dtype))")
    }
}
