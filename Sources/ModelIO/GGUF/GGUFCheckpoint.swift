import Foundation
import TensorCore

/// The tensors of a GGUF model under their Hugging Face names and shapes, as fp32, with the Q/K
/// row permutation of llama.cpp's converter undone (architecture `llama` only). The GGUF
/// counterpart of `CheckpointReader`.
public final class GGUFCheckpoint {
    public let file: GGUFFile
    /// `general.architecture`.
    public let architecture: String
    /// The GGUF tensor behind each name: its Hugging Face name, or its own name when unmapped.
    public let location: [String: String]
    private let heads: Int, kvHeads: Int

    public convenience init(url: URL) throws { try self.init(file: GGUFFile(url: url)) }

    public init(file: GGUFFile) throws {
        self.file = file
        architecture = try file.string("general.architecture")
        var location: [String: String] = [:]
        for name in file.names {
            let mapped = GGUFTensorNames.huggingFace(name) ?? name
            guard location.updateValue(name, forKey: mapped) == nil else {
                throw ModelIOError.corrupt(file: file.url.path, reason: "two tensors map to '\(mapped)'")
            }
        }
        self.location = location
        // Only Llama's q/k rows are permuted; their head counts are needed to undo it.
        if architecture == "llama" {
            heads = try file.int("llama.attention.head_count")
            kvHeads = try file.optionalInt("llama.attention.head_count_kv") ?? heads
        } else {
            (heads, kvHeads) = (0, 0)
        }
    }

    /// Every tensor name (Hugging Face names where mapped), sorted.
    public var names: [String] { location.keys.sorted() }

    public func info(_ name: String) -> GGUFTensorInfo? { location[name].flatMap(file.info) }

    /// The GGUF tensor behind `name`, after checking it exists with the (Hugging Face order) shape.
    @discardableResult
    public func check(_ name: String, expectedShape: [Int]) throws -> GGUFTensorInfo {
        // Messages name both: "tensor 'model.norm.weight (GGUF output_norm.weight)' ...".
        guard let ggufName = location[name], let info = file.info(ggufName) else {
            throw ModelIOError.missingTensor(file: file.url.path, tensor: GGUFTensorNames.llamaCpp(name).map { "\(name) (GGUF \($0))" } ?? name)
        }
        guard info.shape == expectedShape else {
            throw ModelIOError.badTensor(file: file.url.path, tensor: "\(name) (GGUF \(ggufName))",
                                         reason: "shape \(info.shape), expected \(expectedShape)")
        }
        return info
    }

    /// Reads a tensor as fp32 into `destination` after checking its (Hugging Face order) shape.
    public func read(_ name: String, expectedShape: [Int], into destination: UnsafeMutablePointer<Float>) throws {
        let info = try check(name, expectedShape: expectedShape)
        let ggufName = info.name
        try file.read(ggufName, into: destination)
        if let h = GGUFTensorNames.permutationHeads(name, architecture: architecture, heads: heads, kvHeads: kvHeads) {
            let rows = info.shape.first ?? 1, columns = info.elementCount / max(rows, 1)
            guard GGUFTensorNames.unpermuteRows(destination, rows: rows, columns: columns, heads: h) else {
                throw ModelIOError.badTensor(file: file.url.path, tensor: ggufName,
                                             reason: "cannot undo the Q/K row permutation: \(rows) rows are not a multiple of 2 x \(h) heads")
            }
        }
    }

    /// A tensor as fp32, by Hugging Face name.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw ModelIOError.missingTensor(file: file.url.path, tensor: name) }
        let t = Tensor(zeros: info.shape, name: name)
        try read(name, expectedShape: info.shape, into: t.data)
        return t
    }
}
