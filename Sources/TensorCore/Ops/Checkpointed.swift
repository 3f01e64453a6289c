extension Tape {
    /// Activation checkpointing: runs `body` on `x` keeping nothing of it but `x`, and recomputes
    /// it in backward. -> body's output
    ///
    /// Forward runs the body on a tape that computes as a recording tape (every op takes the path
    /// it takes when recording, so the output is bitwise the plain pass's) but drops what the ops
    /// would keep for backward. When this tape records, one step keeps `x` and the body; its
    /// backward runs the body again on a fresh recording tape, on a leaf that shares x's values and
    /// x's gradient slot, and back-propagates the output's gradient through it. The body's ops
    /// accumulate into x's gradient and into the gradients of the parameters they read (bound to
    /// the flat buffer) in the order the plain pass would, so the gradients are bitwise the plain
    /// pass's; the cost is a second forward of the body.
    ///
    /// The body must compute the same values when run twice (no randomness, no state it changes)
    /// and reach tensors other than `x` that need gradients only as leaves (parameters): a
    /// recorded tensor of this tape captured by the body would not receive its gradient.
    /// On an inference tape the body just runs on this tape.
    public func checkpointed(_ x: Tensor, _ body: @escaping (Tape, Tensor) -> Tensor) -> Tensor {
        guard keepsRecordedSteps else { return body(self, x) }
        let forward = Tape(recordingWithoutKeeping: ())
        let computed = body(forward, Tensor(shape: x.shape, storage: x.storage, requiresGrad: x.requiresGrad, name: x.name))
        // Requires a gradient when x or a parameter the body read does.
        let y = Tensor(shape: computed.shape, storage: computed.storage, requiresGrad: computed.requiresGrad, name: computed.name)
        record(y) { dy in
            let tape = Tape()
            let leaf = Tensor(shape: x.shape, storage: x.storage, requiresGrad: x.requiresGrad, name: x.name, gradient: x.gradient)
            tape.backward(body(tape, leaf), seed: dy)
        }
        return y
    }
}
