import Foundation
import TensorCore

/// A reference fixture written by a Scripts/ generator: `{"op", "params", "tensors": {name: {shape, data}}}`.
public struct Fixture {
    public let op: String
    public let params: [String: Any]
    private let tensors: [String: (shape: [Int], data: [Double])]
    public let url: URL

    /// Loads `<name>.json` from the `Fixtures` folder beside the calling test file.
    public init(_ name: String, testFile: StaticString = #filePath) throws {
        let dir = URL(fileURLWithPath: "\(testFile)").deletingLastPathComponent().appendingPathComponent("Fixtures")
        try self.init(url: dir.appendingPathComponent("\(name).json"))
    }

    public init(url: URL) throws {
        self.url = url
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let root = object as? [String: Any], let raw = root["tensors"] as? [String: Any] else {
            throw FixtureError.malformed(url.path, "no 'tensors' object")
        }
        op = root["op"] as? String ?? ""
        params = root["params"] as? [String: Any] ?? [:]
        var tensors: [String: (shape: [Int], data: [Double])] = [:]
        for (name, value) in raw {
            guard let entry = value as? [String: Any], let shape = entry["shape"] as? [Int],
                  let data = entry["data"] as? [NSNumber] else {
                throw FixtureError.malformed(url.path, "tensor '\(name)' lacks shape or data")
            }
            tensors[name] = (shape, data.map { $0.doubleValue })
        }
        self.tensors = tensors
    }

    private func entry(_ name: String) throws -> (shape: [Int], data: [Double]) {
        guard let t = tensors[name] else { throw FixtureError.missing(url.path, name) }
        return t
    }

    /// A float tensor (optionally requiring a gradient).
    public func tensor(_ name: String, requiresGrad: Bool = false) throws -> Tensor {
        let t = try entry(name)
        return Tensor(shape: t.shape, values: t.data.map { Float($0) }, requiresGrad: requiresGrad, name: name)
    }

    /// The raw values of a tensor.
    public func values(_ name: String) throws -> [Float] { try entry(name).data.map { Float($0) } }

    /// An integer tensor's values.
    public func ints(_ name: String) throws -> [Int32] { try entry(name).data.map { Int32($0) } }

    /// The shape of a tensor.
    public func shape(_ name: String) throws -> [Int] { try entry(name).shape }

    public func double(_ key: String) throws -> Double {
        guard let v = params[key] as? NSNumber else { throw FixtureError.missing(url.path, "params.\(key)") }
        return v.doubleValue
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case malformed(String, String)
    case missing(String, String)

    public var description: String {
        switch self {
        case .malformed(let file, let why): return "fixture \(file): \(why)"
        case .missing(let file, let name): return "fixture \(file): no entry '\(name)'"
        }
    }
}
