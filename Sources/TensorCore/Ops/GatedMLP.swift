// Legend: N rows, C channels, I intermediate size.

extension Tape {
    /// The pre-norm gated MLP of Llama-style decoder blocks, without the residual add:
    /// y = down(silu(gate(h)) * up(h)) with h = rmsNorm(x).  x: (..., C) -> (..., C)
    ///
    /// It runs the kernels of `rmsNorm`, `linear` and `swiglu` in the order that composing those
    /// ops would, so values and gradients are bitwise the composition's; what differs is memory.
    /// Recording, it keeps x, gate(h) and up(h) for backward (C + 2I floats a row, where the
    /// composition keeps C + 4I), and backward recomputes h, sigma(gate) and the product: passes
    /// over the data that cost little next to the three matrix products. On an inference tape the
    /// product overwrites up(h), so at most two (N, I) buffers exist at once.
    ///
    /// - recomputeUp: keep only x and gate(h) (C + I floats a row); backward recomputes up(h) with
    ///   the same matrix product (one more (N, C) x (C, I) multiply).
    public func gatedMLP(_ x: Tensor, norm: Tensor, eps: Float, gate: LinearWeights, up: LinearWeights,
                         down: LinearWeights, recomputeUp: Bool = false) -> Tensor {
        let (rows, c, inner) = (x.rows, x.lastDim, gate.outputs)
        checkShapes(norm.shape == [c] && gate.weight.shape == [inner, c] && up.weight.shape == [inner, c]
                    && down.weight.shape == [c, inner], "gatedMLP",
                    "x \(x.shape), norm \(norm.shape), gate \(gate.weight.shape), up \(up.weight.shape), down \(down.weight.shape)")
        checkShapes((gate.bias?.shape ?? [inner]) == [inner] && (up.bias?.shape ?? [inner]) == [inner]
                    && (down.bias?.shape ?? [c]) == [c], "gatedMLP",
                    "biases \([gate, up, down].map { $0.bias?.shape ?? [] }) for (I, C, C) = (\(inner), \(c), \(c))")
        for layer in [gate, up] { checkLinear(x, layer) }
        let y = output(x.shape, [x, norm] + gate.tensors + up.tensors + down.tensors)
        let g = Storage(uninitializedCount: rows * inner), u = Storage(uninitializedCount: rows * inner)
        do {
            let h = Storage(uninitializedCount: rows * c), rstd = Storage(uninitializedCount: rows)
            RMSNormKernel.forward(h.pointer, rstd.pointer, x.data, norm.data, rows: rows, cols: c, eps: eps)
            LinearKernel.forward(g.pointer, h.pointer, gate, rows: rows)
            LinearKernel.forward(u.pointer, h.pointer, up, rows: rows)
        }
        if !y.requiresGrad || recomputeUp {
            ActivationKernel.swigluOverUp(u.pointer, gate: g.pointer, rows: rows, inner: inner)
            LinearKernel.forward(y.data, u.pointer, down, rows: rows)
        } else {
            let product = Storage(uninitializedCount: rows * inner)
            ActivationKernel.sigmoid(product.pointer, g.pointer, count: rows * inner)
            ActivationKernel.swiglu(product.pointer, gate: g.pointer, sig: product.pointer, up: u.pointer, count: rows * inner)
            LinearKernel.forward(y.data, product.pointer, down, rows: rows)
        }
        let keptUp = recomputeUp ? nil : u
        // Which intermediate gradients the composition would compute.
        let hNeeds = x.requiresGrad || norm.requiresGrad
        let (gNeeds, uNeeds) = (hNeeds || gate.requiresGrad, hNeeds || up.requiresGrad)
        record(y) { dy in
            let n = rows * inner
            let h = Storage(uninitializedCount: rows * c), rstd = Storage(uninitializedCount: rows)
            RMSNormKernel.forward(h.pointer, rstd.pointer, x.data, norm.data, rows: rows, cols: c, eps: eps)
            let u = keptUp ?? {
                let u = Storage(uninitializedCount: n)
                LinearKernel.forward(u.pointer, h.pointer, up, rows: rows)
                return u
            }()
            // Two (N, I) buffers: sigma(gate), which becomes d up; the product, which becomes
            // d product, then d gate.
            let sig = Storage(uninitializedCount: n), buffer = Storage(uninitializedCount: n)
            ActivationKernel.sigmoid(sig.pointer, g.pointer, count: n)
            ActivationKernel.swiglu(buffer.pointer, gate: g.pointer, sig: sig.pointer, up: u.pointer, count: n)
            // down (recorded last, so first back): its parameter gradients read the product.
            LinearKernel.parameterGradients(dw: Tape.gradient(down.weight), db: down.bias.flatMap(Tape.gradient),
                                            dy.pointer, buffer.pointer, rows: rows, in: inner, out: c)
            if let adapter = down.adapter { AdapterKernel.parameterGradients(adapter, dy.pointer, buffer.pointer, rows: rows) }
            guard gNeeds || uNeeds else { return }
            buffer.zero()
            LinearKernel.inputGradient(buffer.pointer, dy.pointer, down.weight.data, rows: rows, in: inner, out: c)
            if let adapter = down.adapter { AdapterKernel.inputGradient(buffer.pointer, adapter, dy.pointer, rows: rows) }
            ActivationKernel.swigluBackwardInPlace(buffer.pointer, sig: sig.pointer, gate: g.pointer, up: u.pointer,
                                                   count: n, gate: gNeeds, up: uNeeds)
            let (dGate, dUp) = (buffer, sig)
            // up, then gate: the composition records gate(h) first, so its backward runs last.
            let dh = hNeeds ? Storage(count: rows * c) : nil
            if uNeeds {
                LinearKernel.backward(dx: dh?.pointer, up, dUp.pointer, h.pointer, rows: rows)
            }
            if gNeeds {
                LinearKernel.backward(dx: dh?.pointer, gate, dGate.pointer, h.pointer, rows: rows)
            }
            if let dh {
                RMSNormKernel.backward(Tape.gradient(x), Tape.gradient(norm), dh.pointer, x.data, norm.data, rstd.pointer,
                                       rows: rows, cols: c)
            }
        }
        return y
    }
}
