import CKernels

/// Raw-buffer kernels of the untaped one-token decode step: R rows (the running batch) against
/// weights and cached keys read in place, with no tape, no tensors and four pool jobs per layer.
/// Legend: R rows, K inputs, N outputs, I intermediate, D head dim, G query heads per kv head,
/// L cached positions.
///
/// The elementwise parts (RMSNorm, RoPE, SwiGLU, the attention softmax) run the taped ops' own
/// kernels, so decoding and the training forward differ only in the products' summation order
/// (which BLAS already varies with its tiling): the logprobs recorded while sampling stay equal to
/// the trainer's to float rounding.
public enum DecodeKernels {
    /// One matrix of a fused product: out (R, N) = x W^T + bias, or out += that when `accumulate`
    /// (a residual connection).
    public struct Product {
        /// (N, K), nn.Linear's layout.
        public let weight: Tensor
        /// (N) or nil.
        public let bias: Tensor?
        /// (R, N) with row stride `outStride`.
        public let out: UnsafeMutablePointer<Float>
        public let outStride: Int
        public let accumulate: Bool

        public init(weight: Tensor, bias: Tensor? = nil, out: UnsafeMutablePointer<Float>, outStride: Int,
                    accumulate: Bool = false) {
            checkShapes(weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[0]]), "DecodeKernels.Product",
                        "weight \(weight.shape) must be (N, K), bias \(bias?.shape ?? []) (N)")
            self.weight = weight
            self.bias = bias
            self.out = out
            self.outStride = outStride
            self.accumulate = accumulate
        }

        var n: Int { weight.shape[0] }
        var k: Int { weight.shape[1] }

        /// Output columns lo..<hi for R rows of x (R, K).
        func run(_ x: UnsafePointer<Float>, rows: Int, columns: Range<Int>) {
            DecodeKernels.product(out + columns.lowerBound, outStride: outStride, x, rows: rows, weight: weight, bias: bias,
                                  columns: columns, accumulate: accumulate)
        }
    }

    /// y (R, hi - lo; row stride outStride) (+)= x (R, K) W[lo..<hi]^T + bias[lo..<hi].
    static func product(_ y: UnsafeMutablePointer<Float>, outStride: Int, _ x: UnsafePointer<Float>, rows: Int,
                        weight: Tensor, bias: Tensor?, columns: Range<Int>, accumulate: Bool = false) {
        let k = weight.shape[1]
        ck_linear_columns(y, Int64(outStride), x, Int64(k), weight.data, bias.map { UnsafePointer($0.data) },
                          Int64(rows), Int64(columns.lowerBound), Int64(columns.upperBound), Int64(k), accumulate ? 1 : 0)
    }

    /// Multiply-adds per pool task: ~5-10 us, small enough that a descheduled or late thread's share
    /// is picked up by the other, large enough that handing out tasks costs nothing.
    static let taskMACs = 1 << 18

    /// Multiply-adds per product task with many rows (~10-20 us): the kernel prefetches each weight
    /// group's successor within its chunk, so a chunk's first group waits on memory; wide chunks make
    /// that rare. With fewer rows than CK_LINEAR_BLOCKED_ROWS a product is bound by reading its
    /// weights and is split by `taskMACs`, so both threads stream.
    static let productTaskMACs = 1 << 20

    /// Column chunks of `n` outputs worth about `productTaskMACs` or `taskMACs` each, on 8-column
    /// boundaries (whole 4-row weight groups, and whole vector lanes for SwiGLU's exp).
    static func chunks(rows: Int, k: Int, n: Int) -> [Range<Int>] {
        let macs = rows >= Int(CK_LINEAR_BLOCKED_ROWS) ? productTaskMACs : taskMACs
        let width = max(8, (macs / max(1, rows * k) + 7) & ~7)
        return stride(from: 0, to: n, by: width).map { $0..<min(n, $0 + width) }
    }

    /// Runs `tasks` across the pool when the job is worth a wake-up (as `GEMM.sgemm` splits), else inline.
    static func run(tasks: Int, macs: Int, pool: ThreadPool, _ body: (Int) -> Void) {
        if macs >= GEMM.splitThreshold && tasks > 1 {
            pool.run(tasks: tasks, body)
        } else {
            for t in 0..<tasks { body(t) }
        }
    }

    /// Runs `body` over contiguous ranges of 0..<count rows across the pool, in tasks of about
    /// `taskMACs`, or inline when the whole is too small to share.
    public static func parallelRows(_ count: Int, macsPerRow: Int, pool: ThreadPool = .shared, _ body: (Range<Int>) -> Void) {
        let per = max(1, taskMACs / max(1, macsPerRow)), tasks = (count + per - 1) / per
        run(tasks: tasks, macs: count * macsPerRow, pool: pool) { t in body((t * per)..<min(count, (t + 1) * per)) }
    }

    /// Several products of the same input x (R, K), e.g. q, k and v, as one pool job.
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, _ products: [Product], pool: ThreadPool = .shared) {
        guard rows > 0, let k = products.first?.k else { return }
        checkShapes(products.allSatisfy { $0.k == k }, "DecodeKernels.linear",
                    "weights \(products.map(\.weight.shape)) must share K = \(k)")
        let tasks = products.indices.flatMap { p in chunks(rows: rows, k: k, n: products[p].n).map { (p, $0) } }
        run(tasks: tasks.count, macs: rows * k * products.reduce(0) { $0 + $1.n }, pool: pool) { t in
            products[tasks[t].0].run(x, rows: rows, columns: tasks[t].1)
        }
    }

    /// out (R, N) += scaling * x A^T B^T for x (R, K): a LoRA adapter's share beside its layer's
    /// product (out's rows contiguous, stride N).
    public static func addAdapter(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, _ adapter: LoRAAdapter?) {
        guard let adapter, rows > 0 else { return }
        AdapterKernel.forward(out, x, adapter, rows: rows)
    }

    /// out (R, I) = silu(x Wg^T + bg) * (x Wu^T + bu), as `Tape.swiglu` of two `Tape.linear`s.
    /// Each task computes both products for its columns into a contiguous scratch block, so the
    /// sigmoid's exp runs once over the block (in whole 8-lane vectors, as in the taped op).
    /// With a LoRA adapter on either layer, both products are whole (R, I) blocks first.
    public static func swigluLinear(_ x: UnsafePointer<Float>, rows: Int, gate: Tensor, gateBias: Tensor?,
                                    up: Tensor, upBias: Tensor?, out: UnsafeMutablePointer<Float>, outStride: Int,
                                    gateAdapter: LoRAAdapter? = nil, upAdapter: LoRAAdapter? = nil, pool: ThreadPool = .shared) {
        checkShapes(gate.rank == 2 && gate.shape == up.shape && gateBias?.shape ?? [gate.shape[0]] == [gate.shape[0]]
                    && upBias?.shape ?? [gate.shape[0]] == [gate.shape[0]], "DecodeKernels.swigluLinear",
                    "gate \(gate.shape), up \(up.shape) must be the same (I, K), biases (I)")
        guard rows > 0 else { return }
        let (n, k) = (gate.shape[0], gate.shape[1])
        if gateAdapter != nil || upAdapter != nil {
            let block = rows * n
            let g = Storage(uninitializedCount: block), u = Storage(uninitializedCount: block), sig = Storage(uninitializedCount: block)
            linear(x, rows: rows, [Product(weight: gate, bias: gateBias, out: g.pointer, outStride: n),
                                   Product(weight: up, bias: upBias, out: u.pointer, outStride: n)], pool: pool)
            addAdapter(g.pointer, x, rows: rows, gateAdapter)
            addAdapter(u.pointer, x, rows: rows, upAdapter)
            ActivationKernel.sigmoid(sig.pointer, g.pointer, count: block)
            for r in 0..<rows {
                let y = out + r * outStride
                for j in 0..<n { y[j] = g.pointer[r * n + j] * sig.pointer[r * n + j] * u.pointer[r * n + j] }
            }
            return
        }
        let columns = chunks(rows: rows, k: k, n: n)
        run(tasks: columns.count, macs: 2 * rows * k * n, pool: pool) { t in
            let range = columns[t], width = range.count, block = rows * width
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * block) { scratch in
                let g = scratch.baseAddress!, u = g + block, sig = u + block  // each (R, width)
                product(g, outStride: width, x, rows: rows, weight: gate, bias: gateBias, columns: range)
                product(u, outStride: width, x, rows: rows, weight: up, bias: upBias, columns: range)
                ActivationKernel.sigmoid(sig, g, count: block)
                for r in 0..<rows {
                    let y = out + r * outStride + range.lowerBound
                    for j in 0..<width { y[j] = g[r * width + j] * sig[r * width + j] * u[r * width + j] }
                }
            }
        }
    }

    /// y (R, C) = RMSNorm(x) * weight, as `Tape.rmsNorm`; y may be x.
    public static func rmsNorm(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: Tensor,
                               rows: Int, eps: Float) {
        let cols = weight.count
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rows)) { rstd in
            RMSNormKernel.forward(y, rstd.baseAddress!, x, weight.data, rows: rows, cols: cols, eps: eps)
        }
    }

    /// Rotates `heads` heads (heads, D) of one position in place, as `Tape.rope`; `table` holds
    /// positions 0..<P with P > position.
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, table: RotaryTable) {
        let d = table.headDim, half = d / 2
        checkShapes(position >= 0 && position < table.positionCount, "DecodeKernels.rope",
                    "position \(position) outside a table of \(table.positionCount) positions")
        table.cos.withUnsafeBufferPointer { cosBuf in
            table.sin.withUnsafeBufferPointer { sinBuf in
                RoPEKernel.apply(x, x, cos: cosBuf.baseAddress! + position * half, sin: sinBuf.baseAddress! + position * half,
                                 heads: heads, headDim: d, inverse: false, accumulate: false)
            }
        }
    }

    /// out (G, D) = softmax(scale q K^T) V for G query heads q (G, D) that share one kv head's
    /// cached keys and values (L, D). Key j < L - 1 is visible where keyMask[j] != 0; key L - 1 (this
    /// step's own) always is, as in `AttentionKernel`'s causal softmax. scores: (G, L) scratch.
    public static func attendCached(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
                                    keys: UnsafePointer<Float>, values: UnsafePointer<Float>, keyMask: UnsafePointer<Int32>,
                                    length: Int, groups: Int, headDim d: Int, scale: Float,
                                    scores: UnsafeMutablePointer<Float>) {
        ck_attention_scores(scores, q, keys, Int64(groups), Int64(length), Int64(d), scale)
        for g in 0..<groups {
            AttentionKernel.softmaxVisible(scores + g * length, row: length - 1, t: length, mask: keyMask, lastAlwaysVisible: true)
        }
        ck_weighted_sum(out, scores, values, Int64(groups), Int64(length), Int64(d))
    }
}
