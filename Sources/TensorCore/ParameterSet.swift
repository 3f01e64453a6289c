/// Every trainable tensor of a model in two flat buffers (values and gradients) with named views,
/// so the optimizer, clipping and zeroing are single loops over contiguous memory.
public final class ParameterSet {
    public let values: Storage
    public let grads: Storage
    /// The views, in declaration order; each carries its name and its gradient view.
    public let tensors: [Tensor]
    private let index: [String: Int]
    /// The flat range of each tensor, in declaration order.
    public let ranges: [Range<Int>]

    /// Lays out tensors of the given names and shapes, zero-filled.
    public init(_ specs: [(name: String, shape: [Int])]) {
        var offset = 0
        var ranges: [Range<Int>] = []
        for spec in specs {
            let n = spec.shape.reduce(1, *)
            ranges.append(offset..<(offset + n))
            offset += n
        }
        // Mapped pages: a frozen model (the GRPO reference) never writes its gradients.
        values = Storage(count: offset, lazilyZeroed: true)
        grads = Storage(count: offset, lazilyZeroed: true)
        var tensors: [Tensor] = []
        var index: [String: Int] = [:]
        for (i, spec) in specs.enumerated() {
            let r = ranges[i]
            let t = Tensor(shape: spec.shape, storage: Storage(viewOf: values, offset: r.lowerBound, count: r.count),
                           requiresGrad: true, name: spec.name)
            t.bindGradient(Storage(viewOf: grads, offset: r.lowerBound, count: r.count))
            precondition(index[spec.name] == nil, "ParameterSet: duplicate parameter name '\(spec.name)'")
            index[spec.name] = i
            tensors.append(t)
        }
        self.tensors = tensors
        self.index = index
        self.ranges = ranges
    }

    /// The parameter of that name, if any.
    public subscript(name: String) -> Tensor? { index[name].map { tensors[$0] } }

    /// The total number of scalars.
    public var count: Int { values.count }

    /// Stops gradients flowing into every tensor (a frozen base under LoRA adapters): the ops then
    /// skip their weight gradients, and the gradient buffer's pages are never touched.
    public func freeze() {
        for t in tensors { t.requiresGrad = false }
    }

    /// Whether the tensors take gradients (false once frozen).
    public var isTrainable: Bool { tensors.first?.requiresGrad ?? false }

    /// Sets every gradient to zero.
    public func zeroGrad() { grads.zero() }

    /// The global L2 norm of all gradients (accumulated in fp64).
    public func gradNorm() -> Double {
        var total = 0.0
        let g = grads.pointer
        for i in 0..<grads.count { total += Double(g[i]) * Double(g[i]) }
        return total.squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm`, as torch's clip_grad_norm_:
    /// coefficient = min(1, maxNorm / (norm + 1e-6)). Returns the norm before clipping.
    @discardableResult
    public func clipGradNorm(maxNorm: Double) -> Double {
        let norm = gradNorm()
        let coefficient = Float(min(1, maxNorm / (norm + 1e-6)))
        if coefficient < 1 {
            let g = grads.pointer
            for i in 0..<grads.count { g[i] *= coefficient }
        }
        return norm
    }
}
