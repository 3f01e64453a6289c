// Legend: N rows, V classes.

extension Tape {
    /// Mean cross-entropy over the rows whose target is >= 0 (negative targets, such as -100, are
    /// ignored, as in PyTorch's ignore_index). Returns a scalar (shape []); 0 when every row is ignored.
    ///
    /// - logits: (..., V); targets: one per row.
    public func crossEntropy(logits: Tensor, targets: [Int32]) -> Tensor {
        let (rows, vocab) = (logits.rows, logits.lastDim)
        checkShapes(targets.count == rows, "crossEntropy", "\(targets.count) targets for logits \(logits.shape)")
        if let bad = targets.first(where: { Int($0) >= vocab }) {
            preconditionFailure("crossEntropy: target \(bad) outside the vocabulary of \(vocab)")
        }
        let valid = targets.filter { $0 >= 0 }.count
        let y = output([], [logits])
        let logZ = Storage(count: rows)
        var total = 0.0
        let scratch = Storage(count: vocab)
        for r in 0..<rows where targets[r] >= 0 {
            let z = logits.data + r * vocab
            let (m, _, logSum) = SoftmaxKernel.expRow(scratch.pointer, z, scale: 1, cols: vocab)
            logZ.pointer[r] = m + logSum
            total -= Double(z[Int(targets[r])] - logZ.pointer[r])
        }
        y.data[0] = valid == 0 ? 0 : Float(total / Double(valid))
        record(y) { dy in
            // d z_j = g / valid * (p_j - delta_jt)
            guard logits.requiresGrad, valid > 0 else { return }
            let g = dy.pointer[0] / Float(valid), dz = logits.ensureGrad().pointer
            let p = scratch.pointer
            for r in 0..<rows where targets[r] >= 0 {
                let z = logits.data + r * vocab, dzr = dz + r * vocab
                _ = FastMath.expSum(p, z, shift: logZ.pointer[r], count: vocab)
                for j in 0..<vocab { dzr[j] += g * p[j] }
                dzr[Int(targets[r])] -= g
            }
        }
        return y
    }
}
