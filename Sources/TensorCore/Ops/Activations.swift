// SiLU and SwiGLU, elementwise. sigma(x) = 1 / (1 + exp(-x)) through the vector exp.

enum ActivationKernel {
    /// sig[i] = sigma(x[i])
    static func sigmoid(_ sig: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        _ = FastMath.expSum(sig, x, scale: -1, shift: 0, count: count)
        for i in 0..<count { sig[i] = 1 / (1 + sig[i]) }
    }

    /// y = gate * sig * up, with sig = sigma(gate) already in `sig`. y may alias sig or up.
    static func swiglu(_ y: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, sig: UnsafePointer<Float>,
                       up: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = gate[i] * sig[i] * up[i] }
    }

    /// up = silu(gate) * up for (N, I) buffers, a block of rows at a time through a small sigma
    /// buffer; bitwise `sigmoid` then `swiglu` over the whole: blocks start at multiples of 8
    /// floats, where the vector exp starts its 8-float groups in one call too.
    static func swigluOverUp(_ up: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, rows: Int, inner: Int) {
        let blockRows = 8 * max(1, 4096 / (8 * max(inner, 1)))
        let sig = Storage(uninitializedCount: blockRows * inner)
        for r in stride(from: 0, to: rows, by: blockRows) {
            let n = min(blockRows, rows - r) * inner, offset = r * inner
            sigmoid(sig.pointer, gate + offset, count: n)
            swiglu(up + offset, gate: gate + offset, sig: sig.pointer, up: up + offset, count: n)
        }
    }

    /// dgate +=, dup += (each when given) <- dy, gate, up, sig = sigma(gate).
    /// silu'(g) = sigma (1 + g (1 - sigma)).
    static func swigluBackward(dgate: UnsafeMutablePointer<Float>?, dup: UnsafeMutablePointer<Float>?,
                               _ dy: UnsafePointer<Float>, gate g: UnsafePointer<Float>, up: UnsafePointer<Float>,
                               sig s: UnsafePointer<Float>, count: Int) {
        if let dg = dgate {
            for i in 0..<count { dg[i] += dy[i] * up[i] * s[i] * (1 + g[i] * (1 - s[i])) }
        }
        if let du = dup {
            for i in 0..<count { du[i] += dy[i] * g[i] * s[i] }
        }
    }

    /// `swigluBackward` into fresh (zero) gradients, in place: afterwards `dy` holds d gate and
    /// `sig` holds d up (each only when asked for). `0 + v` is what `+=` into a zeroed buffer
    /// computes (it turns -0 into +0), so the values are bitwise the same.
    static func swigluBackwardInPlace(_ dy: UnsafeMutablePointer<Float>, sig s: UnsafeMutablePointer<Float>,
                                      gate g: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int,
                                      gate wantsGate: Bool, up wantsUp: Bool) {
        let zero: Float = 0
        switch (wantsGate, wantsUp) {
        case (true, true):
            for i in 0..<count {
                let d = dy[i], si = s[i]
                dy[i] = zero + d * up[i] * si * (1 + g[i] * (1 - si))
                s[i] = zero + d * g[i] * si
            }
        case (true, false):
            for i in 0..<count { dy[i] = zero + dy[i] * up[i] * s[i] * (1 + g[i] * (1 - s[i])) }
        case (false, true):
            for i in 0..<count { s[i] = zero + dy[i] * g[i] * s[i] }
        case (false, false):
            break
        }
    }
}

extension Tape {
    /// y = x * sigma(x).
    public func silu(_ x: Tensor) -> Tensor {
        let y = output(x.shape, [x])
        let sig = Storage(uninitializedCount: x.count)
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
        // sigma(gate) goes through y, so an inference tape allocates nothing else; a recording tape
        // recomputes it in backward rather than keep an (N) buffer per op until then.
        ActivationKernel.sigmoid(y.data, gate.data, count: n)
        ActivationKernel.swiglu(y.data, gate: gate.data, sig: y.data, up: up.data, count: n)
        record(y) { dy in
            let sig = Storage(uninitializedCount: n)
            ActivationKernel.sigmoid(sig.pointer, gate.data, count: n)
            ActivationKernel.swigluBackward(dgate: Tape.gradient(gate), dup: Tape.gradient(up), dy.pointer, gate: gate.data,
                                            up: up.data, sig: sig.pointer, count: n)
        }
        return y
    }
}
