// Legend: N rows, C channels.

extension Tape {
    /// Linear layers of one RMS-normalised input: y_j = rmsNorm(x) W_j^T + b_j (a decoder block's
    /// q, k and v projections).  x: (..., C) -> one (..., Out_j) per layer.
    ///
    /// The same kernels in the same order as `rmsNorm` then `linear` per layer, so values and
    /// gradients are bitwise the same; recording, it keeps x rather than rmsNorm(x), which the
    /// backward recomputes (elementwise, cheap next to the products).
    public func normalizedLinears(_ x: Tensor, norm: Tensor, eps: Float, _ layers: [LinearWeights]) -> [Tensor] {
        checkShapes(norm.shape == [x.lastDim], "normalizedLinears", "norm \(norm.shape) for x \(x.shape)")
        for layer in layers { checkLinear(x, layer) }
        let (rows, c) = (x.rows, x.lastDim)
        let ys = layers.map { layer in
            output(Array(x.shape.dropLast()) + [layer.outputs], [x, norm] + layer.tensors)
        }
        do {
            let h = Storage(uninitializedCount: rows * c), rstd = Storage(uninitializedCount: rows)
            RMSNormKernel.forward(h.pointer, rstd.pointer, x.data, norm.data, rows: rows, cols: c, eps: eps)
            for (y, layer) in zip(ys, layers) {
                LinearKernel.forward(y.data, h.pointer, layer, rows: rows)
            }
        }
        let hNeeds = x.requiresGrad || norm.requiresGrad
        record(ys) { grads in
            let h = Storage(uninitializedCount: rows * c), rstd = Storage(uninitializedCount: rows)
            RMSNormKernel.forward(h.pointer, rstd.pointer, x.data, norm.data, rows: rows, cols: c, eps: eps)
            // The composition records the layers in order, so their backward runs last to first.
            var dh: Storage?
            for (dy, layer) in zip(grads, layers).reversed() {
                guard let dy else { continue }
                if hNeeds && dh == nil { dh = Storage(count: rows * c) }
                LinearKernel.backward(dx: dh?.pointer, layer, dy.pointer, h.pointer, rows: rows)
            }
            if let dh {
                RMSNormKernel.backward(Tape.gradient(x), Tape.gradient(norm), dh.pointer, x.data, norm.data, rstd.pointer,
                                       rows: rows, cols: c)
            }
        }
        return ys
    }
}
