/// A contiguous row-major fp32 tensor.
///
/// Tensors are reference types: the tape identifies them by identity and accumulates their
/// gradients (`grad`, same shape) with `+=`. Parameters get their gradient storage from the flat
/// buffer of a `ParameterSet`; intermediate tensors get one lazily during backward.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Storage
    /// Whether gradients flow into this tensor (parameters, and outputs of recorded ops); a frozen
    /// parameter set (`ParameterSet.freeze`) turns it off.
    public internal(set) var requiresGrad: Bool
    /// Where the gradient accumulates; shared with reshaped views of this tensor.
    let gradient: Gradient
    /// The gradient, allocated on first use during backward (or bound to a parameter buffer).
    public var grad: Storage? { gradient.storage }
    /// A readable name for messages (parameters carry their Hugging Face name).
    public var name: String

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var data: UnsafeMutablePointer<Float> { storage.pointer }

    public convenience init(shape: [Int], storage: Storage, requiresGrad: Bool = false, name: String = "") {
        self.init(shape: shape, storage: storage, requiresGrad: requiresGrad, name: name,
                  gradient: Gradient(count: storage.count))
    }

    /// A tensor whose gradient accumulates in `gradient` (a reshaped view shares its base's).
    init(shape: [Int], storage: Storage, requiresGrad: Bool, name: String, gradient: Gradient) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == storage.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) elements, storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
        self.name = name
        self.gradient = gradient
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false, name: String = "") {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *)),
                  requiresGrad: requiresGrad, name: name)
    }

    /// A tensor holding a copy of `values` (row-major).
    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false, name: String = "") {
        precondition(shape.reduce(1, *) == values.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.init(zeros: shape, requiresGrad: requiresGrad, name: name)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { data.update(from: base, count: values.count) }
        }
    }

    /// A copy of the values as an array (row-major).
    public var values: [Float] { Array(storage.buffer) }

    /// The single value of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar on shape \(shape)")
        return data[0]
    }

    /// The gradient values, or zeros when no gradient reached this tensor.
    public var gradValues: [Float] { grad.map { Array($0.buffer) } ?? [Float](repeating: 0, count: count) }

    /// Binds the gradient to caller-owned storage (a view into a flat gradient buffer).
    public func bindGradient(_ storage: Storage) {
        precondition(storage.count == count, "bindGradient: \(storage.count) floats for shape \(shape)")
        gradient.storage = storage
    }

    /// The gradient storage, allocated zero-filled if absent.
    func ensureGrad() -> Storage { gradient.ensure() }

    /// The gradient slot when gradients flow into this tensor: what a backward closure captures
    /// when it needs this tensor's gradient but not its values, so the values can be freed.
    var gradientIfRequired: Gradient? { requiresGrad ? gradient : nil }

    /// A tensor's gradient buffer, allocated zero-filled on first use. It lives apart from the
    /// tensor so that the tape and the backward closures can hold a gradient without keeping the
    /// tensor's values alive (an `add` or `rope` backward needs no input values).
    final class Gradient {
        let count: Int
        var storage: Storage?

        init(count: Int) { self.count = count }

        func ensure() -> Storage {
            if let g = storage { return g }
            let g = Storage(count: count)
            storage = g
            return g
        }

        /// Drops an intermediate gradient.
        func release() { storage = nil }
    }

    /// The product of the dimensions before the last one: the number of rows.
    public var rows: Int { shape.dropLast().reduce(1, *) }
    /// The last dimension.
    public var lastDim: Int { shape.last ?? 1 }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = values.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor\(name.isEmpty ? "" : " '\(name)'")\(shape) [\(preview)\(count > 8 ? ", ..." : "")]"
    }
}
