import Foundation
import ModelIO

/// A decoder family: how its config.json reads and which options it has. One file per family;
/// `ModelFamilies.named(_:)` is the `model_type` registry.
public protocol ModelFamily {
    /// The `model_type` in config.json.
    static var modelType: String { get }
    /// The `architectures` entry written when saving.
    static var architecture: String { get }
    /// Reads and checks a config.json of this family.
    static func config(from json: JSONConfig) throws -> DecoderConfig
    /// The family-specific keys written to config.json when saving.
    static func configKeys(_ config: DecoderConfig) -> [String: Any]
}

public enum ModelFamilies {
    public static var all: [any ModelFamily.Type] { [Llama.self, Qwen2.self, Qwen3.self] }

    public static func named(_ modelType: String) -> (any ModelFamily.Type)? {
        all.first { $0.modelType == modelType }
    }

    /// Reads config.json, dispatching on `model_type`.
    public static func config(at url: URL) throws -> DecoderConfig {
        let json = try JSONConfig(url: url)
        guard let type = try json.optionalString("model_type") else {
            throw ModelIOError.config(file: url.path, field: "model_type", reason: "missing")
        }
        guard let family = named(type) else {
            let known = all.map { "'\($0.modelType)'" }.joined(separator: ", ")
            throw ModelIOError.unsupported(file: url.path, field: "model_type", value: "'\(type)' (supported: \(known))")
        }
        return try family.config(from: json)
    }
}
