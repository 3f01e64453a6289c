/// One linear layer's parameters, for the fused ops that take several: weight (Out, In) and an
/// optional bias (Out).
public struct LinearWeights {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// Out, the number of outputs.
    public var outputs: Int { weight.shape[0] }

    /// Whether a gradient flows into the weight or the bias.
    var requiresGrad: Bool { weight.requiresGrad || (bias?.requiresGrad ?? false) }

    /// The tensors, for `Tape.output`.
    var tensors: [Tensor] { [weight] + (bias.map { [$0] } ?? []) }
}
