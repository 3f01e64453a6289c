// SiLU and SwiGLU, elementwise. sigma(x) = 1 / (1 + exp(-x)) through the vector exp.

enum ActivationKernel {
    /// sig[i] = sigma(x[i])
    static func sigmoid(_ sig: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        _ = FastMath.expSum(sig, x, scale: -1, shift: 0, count: count)
        for i in 0..<count { sig[i] = 1 / (1 + sig[i]) }
    }
}

extension Tape {
    /// y = x * sigma(x).
    public func silu(_ x: Tensor) -> Tensor {
        let y = output(x.shape, [x])
        let sig = Storage(count: x.count)
        ActivationKernel.sigmoid(sig.pointer, x.data, count: x.count)
        for i in 0..<x.count { y.data[i] = x.data[i] * sig.pointer[i] }
        record(y) { dy in
            // silu'(x) = sigma (1 + x (1 - sigma))
            guard x.requiresGrad else { return }
            let dx = x.ensureGrad().pointer, s = sig.pointer
            for i in 0..<x.count { dx[i] += dy.pointer[i] * s[i] * (1 + x.data[i] * (1 - s[i])) }
        }
        return y
    }

    /// y = silu(gate) * up, the gated MLP activation of Llama and Qwen.  gate, up: same shape.
    public func swiglu(gate: Tensor, up: Tensor) -> Tensor {
        checkShapes(gate.shape == up.shape, "swiglu", "gate \(gate.shape) and up \(up.shape) differ")
        let n = gate.count
        let y = output(gate.shape, [gate, up])
        let sig = Storage(count: n)
        ActivationKernel.sigmoid(sig.pointer, gate.data, count: n)
        for i in 0..<n { y.data[i] = gate.data[i] * sig.pointer[i] * up.data[i] }
        record(y) { dy in
            let s = sig.pointer, g = gate.data
            if gate.requiresGrad {
                let dg = gate.ensureGrad().pointer
                for i in 0..<n { dg[i] += dy.pointer[i] * up.data[i] * s[i] * (1 + g[i] * (1 - s[i])) }
            }
            if up.requiresGrad {
                let du = up.ensureGrad().pointer
                for i in 0..<n { du[i] += dy.pointer[i] * g[i] * s[i] }
            }
        }
        return y
    }
}
