// Legend: N rows, In inputs, Out outputs, r rank.

/// A LoRA adapter on one linear layer, with PEFT's semantics (Hu et al. 2021):
///
///     y = x W^T + b + scaling * dropout(x) A^T B^T
///
/// with A (r, In), B (Out, r) trainable, W and b frozen, scaling = alpha / r (alpha / sqrt(r) with
/// rsLoRA). Dropout (probability p, inverted: kept inputs scaled by 1 / (1 - p)) acts on the
/// adapter's input only, as PEFT's `lora_dropout`; its mask is a hash of `dropoutKey` and the
/// element's index, so a backward pass (or a recomputation) draws the same mask without storing it.
public struct LoRAAdapter {
    /// (r, In)
    public let a: Tensor
    /// (Out, r)
    public let b: Tensor
    public let scaling: Float
    /// The dropout probability of this pass (0 outside training passes).
    public let dropout: Float
    public let dropoutKey: UInt64

    public init(a: Tensor, b: Tensor, scaling: Float, dropout: Float = 0, dropoutKey: UInt64 = 0) {
        checkShapes(a.rank == 2 && b.rank == 2 && a.shape[0] == b.shape[1], "LoRAAdapter",
                    "A \(a.shape) must be (r, In) and B \(b.shape) (Out, r)")
        checkShapes(dropout >= 0 && dropout < 1, "LoRAAdapter", "dropout \(dropout) outside [0, 1)")
        self.a = a
        self.b = b
        self.scaling = scaling
        self.dropout = dropout
        self.dropoutKey = dropoutKey
    }

    public var rank: Int { a.shape[0] }
    var requiresGrad: Bool { a.requiresGrad || b.requiresGrad }
}

/// The kernels of a LoRA adapter beside its base layer's `LinearKernel` calls. The adapter's
/// product t = dropout(x) A^T (N, r) is recomputed in backward rather than kept (N x In x r
/// multiply-adds, small next to the base layer's N x In x Out).
enum AdapterKernel {
    /// y (N, Out) += scaling * dropout(x) (N, In) A^T B^T
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ adapter: LoRAAdapter, rows: Int) {
        let (r, inF, outF) = (adapter.rank, adapter.a.shape[1], adapter.b.shape[0])
        let t = Storage(uninitializedCount: rows * r)
        withDropped(x, adapter, rows: rows) { xd in
            GEMM.sgemm(transA: false, transB: true, m: rows, n: r, k: inF, a: xd, lda: inF, b: adapter.a.data, ldb: inF,
                       c: t.pointer, ldc: r)
        }
        GEMM.sgemm(transA: false, transB: true, m: rows, n: outF, k: r, alpha: adapter.scaling, a: t.pointer, lda: r,
                   b: adapter.b.data, ldb: r, beta: 1, c: y, ldc: outF)
    }

    /// dA (r, In) +=, dB (Out, r) += <- dy (N, Out), x (N, In); each where it flows.
    ///
    ///     t  = xd A^T             (xd = dropout(x))
    ///     dB += scaling * dy^T t
    ///     dt  = scaling * dy B     (N, r)
    ///     dA += dt^T xd
    static func parameterGradients(_ adapter: LoRAAdapter, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int) {
        let (r, inF, outF) = (adapter.rank, adapter.a.shape[1], adapter.b.shape[0])
        let (da, db) = (Tape.gradient(adapter.a), Tape.gradient(adapter.b))
        guard da != nil || db != nil else { return }
        withDropped(x, adapter, rows: rows) { xd in
            if let db {
                let t = Storage(uninitializedCount: rows * r)
                GEMM.sgemm(transA: false, transB: true, m: rows, n: r, k: inF, a: xd, lda: inF, b: adapter.a.data, ldb: inF,
                           c: t.pointer, ldc: r)
                GEMM.sgemm(transA: true, transB: false, m: outF, n: r, k: rows, alpha: adapter.scaling, a: dy, lda: outF,
                           b: t.pointer, ldb: r, beta: 1, c: db, ldc: r)
            }
            if let da {
                let dt = inner(adapter, dy, rows: rows)
                GEMM.sgemm(transA: true, transB: false, m: r, n: inF, k: rows, a: dt.pointer, lda: r, b: xd, ldb: inF,
                           beta: 1, c: da, ldc: inF)
            }
        }
    }

    /// dx (N, In) += (dt A) * mask / (1 - p), dt = scaling * dy B: the adapter's share of the input
    /// gradient, which needs the dropout mask but not x.
    static func inputGradient(_ dx: UnsafeMutablePointer<Float>, _ adapter: LoRAAdapter, _ dy: UnsafePointer<Float>, rows: Int) {
        let (r, inF) = (adapter.rank, adapter.a.shape[1])
        let dt = inner(adapter, dy, rows: rows)
        if adapter.dropout == 0 {
            GEMM.sgemm(transA: false, transB: false, m: rows, n: inF, k: r, a: dt.pointer, lda: r, b: adapter.a.data,
                       ldb: inF, beta: 1, c: dx, ldc: inF)
        } else {
            let dxd = Storage(uninitializedCount: rows * inF)
            GEMM.sgemm(transA: false, transB: false, m: rows, n: inF, k: r, a: dt.pointer, lda: r, b: adapter.a.data,
                       ldb: inF, c: dxd.pointer, ldc: inF)
            applyDropout(dxd.pointer, dxd.pointer, count: rows * inF, adapter, accumulateInto: dx)
        }
    }

    /// dt (N, r) = scaling * dy (N, Out) B (Out, r)
    static func inner(_ adapter: LoRAAdapter, _ dy: UnsafePointer<Float>, rows: Int) -> Storage {
        let (r, outF) = (adapter.rank, adapter.b.shape[0])
        let dt = Storage(uninitializedCount: rows * r)
        GEMM.sgemm(transA: false, transB: false, m: rows, n: r, k: outF, alpha: adapter.scaling, a: dy, lda: outF,
                   b: adapter.b.data, ldb: r, c: dt.pointer, ldc: r)
        return dt
    }

    /// Runs `body` with dropout(x): x itself without dropout, else a masked, rescaled copy.
    static func withDropped<R>(_ x: UnsafePointer<Float>, _ adapter: LoRAAdapter, rows: Int,
                               _ body: (UnsafePointer<Float>) -> R) -> R {
        guard adapter.dropout > 0 else { return body(x) }
        let count = rows * adapter.a.shape[1]
        let dropped = Storage(uninitializedCount: count)
        applyDropout(dropped.pointer, x, count: count, adapter)
        return body(dropped.pointer)
    }

    /// y[i] = x[i] * mask[i] / (1 - p), or y[i] += that into `accumulateInto` when given.
    static func applyDropout(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, _ adapter: LoRAAdapter,
                             accumulateInto target: UnsafeMutablePointer<Float>? = nil) {
        let keep = 1 / (1 - adapter.dropout)
        // Element i is dropped when the top 24 bits of its hash fall below p * 2^24.
        let threshold = UInt64(Double(adapter.dropout) * Double(1 << 24))
        for i in 0..<count {
            var state = adapter.dropoutKey &+ UInt64(i) &* 0xD1B5_4A32_D192_ED03
            let kept = (SeededGenerator.splitMix64(&state) >> 40) >= threshold
            let value = kept ? x[i] * keep : 0
            if let target { target[i] += value } else { y[i] = value }
        }
    }
}

extension LinearKernel {
    /// A layer's forward with its adapter: y (N, Out) <- x (N, In) W^T + b (+ the adapter's delta).
    static func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ layer: LinearWeights, rows: Int) {
        forward(y, x, layer.weight.data, layer.bias?.data, rows: rows, in: layer.inputs, out: layer.outputs)
        if let adapter = layer.adapter { AdapterKernel.forward(y, x, adapter, rows: rows) }
    }

    /// A layer's backward with its adapter: dx (N, In) +=, and the gradients of W, b, A and B that
    /// flow, from dy (N, Out) and the layer's input x (N, In).
    static func backward(dx: UnsafeMutablePointer<Float>?, _ layer: LinearWeights, _ dy: UnsafePointer<Float>,
                         _ x: UnsafePointer<Float>, rows: Int) {
        backward(dx: dx, dw: Tape.gradient(layer.weight), db: layer.bias.flatMap(Tape.gradient), dy, x, layer.weight.data,
                 rows: rows, in: layer.inputs, out: layer.outputs)
        guard let adapter = layer.adapter else { return }
        AdapterKernel.parameterGradients(adapter, dy, x, rows: rows)
        if let dx { AdapterKernel.inputGradient(dx, adapter, dy, rows: rows) }
    }
}

extension Tape {
    /// `linear` of one layer with its adapter, if any. x: (..., In) -> (..., Out)
    public func linear(_ x: Tensor, _ layer: LinearWeights) -> Tensor {
        guard layer.adapter != nil else { return linear(x, layer.weight, bias: layer.bias) }
        checkLinear(x, layer)
        let rows = x.rows
        let y = output(Array(x.shape.dropLast()) + [layer.outputs], [x] + layer.tensors)
        LinearKernel.forward(y.data, x.data, layer, rows: rows)
        record(y) { dy in
            LinearKernel.backward(dx: Tape.gradient(x), layer, dy.pointer, x.data, rows: rows)
        }
        return y
    }

    /// Checks a layer's shapes against its input x (..., In), its adapter's included.
    func checkLinear(_ x: Tensor, _ layer: LinearWeights) {
        checkLinear(x, layer.weight, layer.bias)
        if let adapter = layer.adapter {
            checkShapes(adapter.a.shape[1] == layer.inputs && adapter.b.shape[0] == layer.outputs, "linear",
                        "adapter A \(adapter.a.shape), B \(adapter.b.shape) for weight \(layer.weight.shape)")
        }
    }
}
