import Foundation
import TensorCore

/// The tensors of a Hugging Face model folder: model.safetensors, or the shards listed in
/// model.safetensors.index.json.
public final class CheckpointReader {
    public let directory: URL
    private var files: [String: SafeTensorsFile] = [:]
    /// Which file holds each tensor.
    public let location: [String: String]
    /// The file that lists the tensors (model.safetensors.index.json, or model.safetensors), named
    /// when one is missing.
    public let listing: String

    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let single = directory.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: index.path) {
            let json = try JSONConfig(url: index)
            guard let map = json.values["weight_map"] as? [String: String] else {
                throw ModelIOError.config(file: index.path, field: "weight_map", reason: "expected an object of tensor name -> file name")
            }
            for shard in Set(map.values) {
                guard !shard.contains("/") else {
                    throw ModelIOError.config(file: index.path, field: "weight_map", reason: "shard '\(shard)' is not a file name in the folder")
                }
                files[shard] = try SafeTensorsFile(url: directory.appendingPathComponent(shard))
            }
            for (name, shard) in map where files[shard]?.info(name) == nil {
                throw ModelIOError.missingTensor(file: directory.appendingPathComponent(shard).path, tensor: name)
            }
            location = map
            listing = index.path
        } else if fm.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(url: single)
            files["model.safetensors"] = file
            location = Dictionary(uniqueKeysWithValues: file.names.map { ($0, "model.safetensors") })
            listing = single.path
        } else {
            throw ModelIOError.unreadable(file: directory.path, reason: "no model.safetensors or model.safetensors.index.json")
        }
    }

    /// Every tensor name in the checkpoint.
    public var names: [String] { location.keys.sorted() }

    public func info(_ name: String) -> SafeTensorsFile.Info? {
        location[name].flatMap { files[$0]?.info(name) }
    }

    /// The file path that holds `name`, for messages.
    public func path(of name: String) -> String {
        directory.appendingPathComponent(location[name] ?? "model.safetensors").path
    }

    /// Reads a tensor as fp32 into `destination`, after checking its shape.
    public func read(_ name: String, expectedShape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
        guard let file = location[name].flatMap({ files[$0] }), let info = file.info(name) else {
            throw ModelIOError.missingTensor(file: listing, tensor: name)
        }
        guard info.shape == expectedShape else {
            throw ModelIOError.shapeMismatch(tensor: name, actual: info.shape, expected: expectedShape)
        }
        try file.read(name, into: destination)
    }

    /// A tensor as fp32.
    public func tensor(_ name: String) throws -> Tensor {
        guard let file = location[name].flatMap({ files[$0] }) else {
            throw ModelIOError.missingTensor(file: listing, tensor: name)
        }
        return try file.tensor(name)
    }
}
