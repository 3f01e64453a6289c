/// Reverse-mode automatic differentiation: a list of recorded ops replayed backwards.
///
/// Every differentiable op is a method on `Tape` (in the op's own file) that runs the forward
/// kernel and, when the tape is recording and an input requires a gradient, records a closure
/// that runs the backward kernel. Backward closures *accumulate* (`+=`) into input gradients.
///
/// An inference tape (`Tape(recording: false)`) records nothing and keeps nothing alive.
///
///     let tape = Tape()
///     let loss = tape.crossEntropy(logits: tape.linear(x, w), targets: t)
///     tape.backward(loss)          // gradients land in w.grad (+=)
public final class Tape {
    public let isRecording: Bool
    /// False for the forward pass of a checkpointed body: ops take their recording paths (so the
    /// values are the bits a recording tape computes) but nothing is kept for backward.
    private let keepsSteps: Bool
    private var steps: [Step] = []

    /// A recorded op: its outputs' gradient slots (not the outputs: an output's values stay alive
    /// only while a backward closure needs them) and the closure that propagates them.
    private struct Step {
        let gradients: [Tensor.Gradient]
        let backward: () -> Void
    }

    public init(recording: Bool = true) {
        isRecording = recording
        keepsSteps = recording
    }

    /// A tape that computes as a recording one and keeps nothing: every `record` is dropped.
    init(recordingWithoutKeeping: ()) {
        isRecording = true
        keepsSteps = false
    }

    /// Whether ops recorded on this tape are kept for backward.
    var keepsRecordedSteps: Bool { keepsSteps }

    /// The number of recorded ops.
    public var count: Int { steps.count }

    /// An output tensor for an op; it requires a gradient when recording and any input does. Its
    /// values are not initialised: every op writes all of its outputs.
    func output(_ shape: [Int], _ inputs: [Tensor], name: String = "") -> Tensor {
        let needs = isRecording && inputs.contains { $0.requiresGrad }
        return Tensor(shape: shape, storage: Storage(uninitializedCount: shape.reduce(1, *)), requiresGrad: needs, name: name)
    }

    /// Records `backward` for `output` if it requires a gradient. The closure runs only when a
    /// gradient reached `output`, and receives that gradient.
    func record(_ output: Tensor, _ backward: @escaping (Storage) -> Void) {
        guard output.requiresGrad && keepsSteps else { return }
        let gradient = output.gradient
        steps.append(Step(gradients: [gradient], backward: {
            if let g = gradient.storage { backward(g) }
        }))
    }

    /// Records `backward` for an op with several outputs; it runs when a gradient reached any
    /// of them and receives each output's gradient (nil where none arrived).
    func record(_ outputs: [Tensor], _ backward: @escaping ([Storage?]) -> Void) {
        guard keepsSteps && outputs.contains(where: { $0.requiresGrad }) else { return }
        let gradients = outputs.map(\.gradient)
        steps.append(Step(gradients: gradients, backward: {
            let grads = gradients.map(\.storage)
            if grads.contains(where: { $0 != nil }) { backward(grads) }
        }))
    }

    /// Backpropagates from a one-element loss (seed 1), then releases the recorded ops.
    public func backward(_ loss: Tensor) {
        precondition(loss.count == 1, "Tape.backward: loss must have one element, has shape \(loss.shape)")
        backward(loss, seed: [1])
    }

    /// Backpropagates `seed` (dL/d output, same element count) from `output`, then releases the
    /// recorded ops. Use it to inject a gradient computed outside the tape, such as a policy loss.
    public func backward(_ output: Tensor, seed: [Float]) {
        backward([output], seeds: [seed])
    }

    /// Backpropagates several outputs at once, each with its own seed.
    public func backward(_ outputs: [Tensor], seeds: [[Float]]) {
        precondition(outputs.count == seeds.count, "Tape.backward: \(seeds.count) seeds for \(outputs.count) outputs")
        for (output, seed) in zip(outputs, seeds) where output.requiresGrad {
            precondition(seed.count == output.count,
                         "Tape.backward: seed has \(seed.count) values for output shape \(output.shape)")
            let g = output.ensureGrad()
            for i in 0..<seed.count { g.pointer[i] += seed[i] }
        }
        propagate()
    }

    /// Backpropagates `seed` (dL/d output, in a buffer) from `output`, then releases the recorded
    /// ops. A gradient that had not reached `output` yet becomes a copy of the seed (not 0 + seed,
    /// which would turn -0 into +0).
    func backward(_ output: Tensor, seed: Storage) {
        precondition(seed.count == output.count, "Tape.backward: seed has \(seed.count) values for output shape \(output.shape)")
        if output.requiresGrad {
            if let g = output.grad {
                for i in 0..<seed.count { g.pointer[i] += seed.pointer[i] }
            } else {
                let g = Storage(uninitializedCount: seed.count)
                g.pointer.update(from: seed.pointer, count: seed.count)
                output.bindGradient(g)
            }
        }
        propagate()
    }

    /// Runs the recorded ops' backward closures, last first, then releases them.
    private func propagate() {
        // Each op's gradient is complete once its backward has run (its consumers come later on
        // the tape and ran first), so release the op right away: its closure's saved activations
        // and its outputs' gradients. Peak memory is then the forward's activations plus a few
        // gradients, not activations plus every intermediate gradient.
        while let step = steps.popLast() {
            step.backward()
            for gradient in step.gradients { gradient.release() }
        }
        reset()
    }

    /// Forgets the recorded ops and the gradients of their outputs (parameter gradients stay).
    public func reset() {
        for step in steps { for gradient in step.gradients { gradient.release() } }
        steps.removeAll(keepingCapacity: true)
    }

    /// A tensor with a new shape sharing `x`'s storage and, when recording, its gradient.
    public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == x.count, "reshape: \(x.shape) -> \(shape) changes the element count")
        return Tensor(shape: shape, storage: x.storage, requiresGrad: isRecording && x.requiresGrad, name: x.name,
                      gradient: x.gradient)
    }
}

extension Tape {
    /// The gradient buffer of `t` (allocated zero-filled on first use) when gradients flow into
    /// it, else nil: what a backward closure accumulates into.
    static func gradient(_ t: Tensor) -> UnsafeMutablePointer<Float>? {
        t.requiresGrad ? t.ensureGrad().pointer : nil
    }
}

/// Stops with a message naming the op and the shapes: engine API misuse is a programming error
/// (shapes from users and files are validated where they enter).
@inline(__always)
func checkShapes(_ condition: @autoclosure () -> Bool, _ op: String, _ detail: @autoclosure () -> String) {
    if !condition() { preconditionFailure("\(op): \(detail())") }
}
