import XCTest
import TensorCore

/// Checks an op's analytic gradients against central finite differences.
///
/// The objective is L = sum_k sum_i r_{k,i} y_{k,i} over the op's outputs y_k with fixed random
/// weights r, accumulated in Float64. Each input element is perturbed by +-h in fp32; the quotient
/// (L+ - L-) / (x+ - x-) uses the perturbed values actually stored, in Float64. An element passes
/// when |analytic - numeric| <= atol * max(1, max|analytic|) + rtol * |numeric|.
public struct GradientCheck {
    public var step: Float = 1e-2
    public var atol: Double = 2e-3
    public var rtol: Double = 1e-2
    /// At most this many elements are probed per input (chosen at random beyond that).
    public var maxProbes = 64
    public var seed: UInt64 = 7

    public init(step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 1e-2) {
        self.step = step
        self.atol = atol
        self.rtol = rtol
    }

    /// - inputs: leaf tensors with `requiresGrad` set; their gradients are overwritten.
    /// - forward: builds the op's outputs on the given tape.
    public func run(_ op: String, inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                    forward: (Tape, [Tensor]) -> [Tensor]) {
        if let failure = firstFailure(op, inputs: inputs, forward: forward) {
            XCTFail(failure, file: file, line: line)
        }
    }

    /// The first element whose gradients disagree, described, or nil when all agree.
    public func firstFailure(_ op: String, inputs: [Tensor], forward: (Tape, [Tensor]) -> [Tensor]) -> String? {
        var rng = SeededGenerator(seed: seed)
        let tape = Tape()
        let outputs = forward(tape, inputs)
        let weights = outputs.map { y in (0..<y.count).map { _ in Float(rng.nextNormal()) } }
        for x in inputs where x.requiresGrad { x.grad?.zero() }
        tape.backward(outputs, seeds: weights)
        let analytic = inputs.map { $0.gradValues }

        func objective() -> Double {
            let ys = forward(Tape(recording: false), inputs)
            var total = 0.0
            for (y, w) in zip(ys, weights) {
                for i in 0..<y.count { total += Double(w[i]) * Double(y.data[i]) }
            }
            return total
        }

        let shapes = inputs.map { "\($0.shape)" }.joined(separator: ", ")
        for (n, x) in inputs.enumerated() where x.requiresGrad {
            let scale = max(1, analytic[n].map { abs(Double($0)) }.max() ?? 0)
            var probes = Array(0..<x.count)
            if probes.count > maxProbes {
                rng.shuffle(&probes)
                probes = Array(probes.prefix(maxProbes))
            }
            for i in probes {
                let original = x.data[i]
                x.data[i] = original + step
                let plusX = Double(x.data[i]), plus = objective()
                x.data[i] = original - step
                let minusX = Double(x.data[i]), minus = objective()
                x.data[i] = original
                let numeric = (plus - minus) / (plusX - minusX)
                let a = Double(analytic[n][i])
                if !(abs(a - numeric) <= atol * scale + rtol * abs(numeric)) {
                    return "\(op) [inputs \(shapes)]: d/d input \(n) '\(x.name)'[\(i)] analytic \(a), numeric \(numeric)"
                }
            }
        }
        return nil
    }
}
