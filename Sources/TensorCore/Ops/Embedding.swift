// Legend: V vocabulary, C channels, N looked-up positions (any leading shape).

extension Tape {
    /// Gathers rows of `table` (V, C) at `ids` (shape `idShape`, values in 0..<V).
    ///
    /// - returns: (idShape..., C). Backward scatters (+=) each output row into its table row.
    public func embedding(_ table: Tensor, ids: [Int32], idShape: [Int]) -> Tensor {
        checkShapes(table.rank == 2, "embedding", "table must be (V, C), got \(table.shape)")
        checkShapes(idShape.reduce(1, *) == ids.count, "embedding", "\(ids.count) ids for shape \(idShape)")
        let (vocab, channels) = (table.shape[0], table.shape[1])
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocab }) {
            preconditionFailure("embedding: id \(bad) outside the table's \(vocab) rows")
        }
        let y = output(idShape + [channels], [table])
        for (n, id) in ids.enumerated() {
            (y.data + n * channels).update(from: table.data + Int(id) * channels, count: channels)
        }
        record(y) { dy in
            let dTable = table.ensureGrad().pointer
            for (n, id) in ids.enumerated() {
                Kernels.accumulate(dTable + Int(id) * channels, dy.pointer + n * channels, count: channels)
            }
        }
        return y
    }
}
