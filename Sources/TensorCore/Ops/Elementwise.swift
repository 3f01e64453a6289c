// Elementwise ops and reductions to a scalar. Shapes must match exactly, except the bias of
// `addBias`, which broadcasts over the rows.

extension Tape {
    /// y = a + b (same shape).
    public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        checkShapes(a.shape == b.shape, "add", "shapes differ: \(a.shape) and \(b.shape)")
        let y = output(a.shape, [a, b])
        for i in 0..<a.count { y.data[i] = a.data[i] + b.data[i] }
        let gradients = [a.gradientIfRequired, b.gradientIfRequired], count = a.count
        record(y) { dy in
            for case let g? in gradients { Kernels.accumulate(g.ensure().pointer, dy.pointer, count: count) }
        }
        return y
    }

    /// y = x + bias, bias broadcast over rows.  x: (..., C), bias: (C)
    public func addBias(_ x: Tensor, _ bias: Tensor) -> Tensor {
        checkShapes(bias.shape == [x.lastDim], "addBias", "bias \(bias.shape) for x \(x.shape)")
        let (rows, cols) = (x.rows, x.lastDim)
        let y = output(x.shape, [x, bias])
        for r in 0..<rows {
            for c in 0..<cols { y.data[r * cols + c] = x.data[r * cols + c] + bias.data[c] }
        }
        let dx = x.gradientIfRequired
        record(y) { dy in
            if let dx { Kernels.accumulate(dx.ensure().pointer, dy.pointer, count: rows * cols) }
            if bias.requiresGrad { Kernels.addRowSums(bias.ensureGrad().pointer, dy.pointer, rows: rows, cols: cols) }
        }
        return y
    }

    /// y = a * b elementwise (same shape).
    public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
        checkShapes(a.shape == b.shape, "mul", "shapes differ: \(a.shape) and \(b.shape)")
        let y = output(a.shape, [a, b])
        for i in 0..<a.count { y.data[i] = a.data[i] * b.data[i] }
        record(y) { dy in
            // d a = dy * b, d b = dy * a
            if a.requiresGrad {
                let da = a.ensureGrad().pointer
                for i in 0..<a.count { da[i] += dy.pointer[i] * b.data[i] }
            }
            if b.requiresGrad {
                let db = b.ensureGrad().pointer
                for i in 0..<b.count { db[i] += dy.pointer[i] * a.data[i] }
            }
        }
        return y
    }

    /// y = s * x.
    public func scale(_ x: Tensor, _ s: Float) -> Tensor {
        let y = output(x.shape, [x])
        for i in 0..<x.count { y.data[i] = s * x.data[i] }
        let dx = x.gradientIfRequired, count = x.count
        record(y) { dy in
            if let dx { Kernels.accumulate(dx.ensure().pointer, dy.pointer, alpha: s, count: count) }
        }
        return y
    }

    /// The sum of all elements, as a scalar tensor (shape []). Accumulated in fp64.
    public func sum(_ x: Tensor) -> Tensor {
        let y = output([], [x])
        var total = 0.0
        for i in 0..<x.count { total += Double(x.data[i]) }
        y.data[0] = Float(total)
        let gradient = x.gradientIfRequired, count = x.count
        record(y) { dy in
            if let gradient {
                let g = dy.pointer[0], dx = gradient.ensure().pointer
                for i in 0..<count { dx[i] += g }
            }
        }
        return y
    }

    /// The mean of all elements, as a scalar tensor (shape []).
    public func mean(_ x: Tensor) -> Tensor {
        scale(sum(x), 1 / Float(max(x.count, 1)))
    }
}
