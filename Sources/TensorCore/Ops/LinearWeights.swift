/// One linear layer's parameters, for the fused ops that take several: weight (Out, In), an
/// optional bias (Out) and an optional LoRA adapter.
public struct LinearWeights {
    public let weight: Tensor
    public let bias: Tensor?
    public let adapter: LoRAAdapter?

    public init(_ weight: Tensor, bias: Tensor?, adapter: LoRAAdapter? = nil) {
        self.weight = weight
        self.bias = bias
        self.adapter = adapter
    }

    /// Out, the number of outputs.
    public var outputs: Int { weight.shape[0] }
    /// In, the number of inputs.
    public var inputs: Int { weight.shape[1] }

    /// Whether a gradient flows into the weight, the bias or the adapter.
    var requiresGrad: Bool { weight.requiresGrad || (bias?.requiresGrad ?? false) || (adapter?.requiresGrad ?? false) }

    /// The tensors, for `Tape.output`.
    var tensors: [Tensor] { [weight] + (bias.map { [$0] } ?? []) + (adapter.map { [$0.a, $0.b] } ?? []) }
}
