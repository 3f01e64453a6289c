// Legend: N rows, C columns, R gathered rows.

extension Tape {
    /// Rows of x (..., C) flattened to (N, C), picked by index: (R, C). Backward adds each output
    /// row's gradient into the row it came from (indices may repeat).
    public func gatherRows(_ x: Tensor, rows: [Int]) -> Tensor {
        let (n, c) = (x.rows, x.lastDim)
        if let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
            preconditionFailure("gatherRows: row \(bad) outside the \(n) rows of \(x.shape)")
        }
        let y = output([rows.count, c], [x])
        for (r, source) in rows.enumerated() {
            (y.data + r * c).update(from: x.data + source * c, count: c)
        }
        let gradient = x.gradientIfRequired  // the backward needs x's gradient, not its values
        record(y) { dy in
            guard let gradient else { return }
            let dx = gradient.ensure().pointer
            for (r, source) in rows.enumerated() {
                Kernels.accumulate(dx + source * c, dy.pointer + r * c, count: c)
            }
        }
        return y
    }
}
