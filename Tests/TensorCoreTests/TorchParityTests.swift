import XCTest
import TestSupport
@testable import TensorCore

/// Op values and gradients against PyTorch, on fixtures written by
/// Scripts/make_tensorcore_fixtures.py. Norm-wise relative error <= 1e-5 forward, <= 1e-4 backward.
final class TorchParityTests: XCTestCase {
    let forwardTolerance = 1e-5
    let gradientTolerance = 1e-4

    /// Runs `build` on a recording tape, backpropagates each output's `dy` and compares the outputs
    /// and the inputs' gradients with the fixture.
    func check(_ fixture: Fixture, prefix: String = "", inputs names: [String], outputs: [(name: String, dy: String)],
               build: (Tape, [Tensor]) -> [Tensor]) throws {
        let inputs = try names.map { try fixture.tensor(prefix + $0, requiresGrad: true) }
        let tape = Tape()
        let ys = build(tape, inputs)
        for (y, out) in zip(ys, outputs) {
            assertClose(y.values, try fixture.values(prefix + out.name), tolerance: forwardTolerance,
                        "\(fixture.op) \(prefix)\(out.name)")
        }
        tape.backward(ys, seeds: try outputs.map { try fixture.values(prefix + $0.dy) })
        for (x, name) in zip(inputs, names) {
            assertClose(x.gradValues, try fixture.values(prefix + "grad_" + name), tolerance: gradientTolerance,
                        "\(fixture.op) \(prefix)grad_\(name)")
        }
    }

    func testMatmulAndTransposes() throws {
        let f = try Fixture("matmul")
        try check(f, inputs: ["a", "b"], outputs: [("y", "dy")]) { tape, x in [tape.matmul(x[0], x[1])] }
        try check(f, prefix: "nt_", inputs: ["a", "b"], outputs: [("y", "dy")]) { tape, x in
            [tape.matmul(x[0], x[1], transposeB: true)]
        }
        try check(f, prefix: "tn_", inputs: ["a", "b"], outputs: [("y", "dy")]) { tape, x in
            [tape.matmul(x[0], x[1], transposeA: true)]
        }
    }

    func testLinear() throws {
        try check(try Fixture("linear"), inputs: ["x", "w", "bias"], outputs: [("y", "dy")]) { tape, x in
            [tape.linear(x[0], x[1], bias: x[2])]
        }
    }

    func testRMSNorm() throws {
        let f = try Fixture("rmsnorm")
        let eps = Float(try f.double("eps"))
        try check(f, inputs: ["x", "w"], outputs: [("y", "dy")]) { tape, x in [tape.rmsNorm(x[0], weight: x[1], eps: eps)] }
    }

    func testRoPE() throws {
        let f = try Fixture("rope")
        let x = try f.tensor("x")
        let table = RotaryTable(positions: try f.ints("positions"), headDim: x.shape[3], theta: Float(try f.double("theta")))
        try check(f, inputs: ["x"], outputs: [("y", "dy")]) { tape, x in [tape.rope(x[0], table: table)] }
    }

    func testAttentionWithGQAAndLeftPadding() throws {
        let f = try Fixture("attention")
        let mask = try f.ints("key_mask")
        try check(f, inputs: ["q", "k", "v"], outputs: [("out", "dy")]) { tape, x in
            [tape.attention(q: x[0], k: x[1], v: x[2], keyMask: mask)]
        }
    }

    func testAttentionWithAdditiveBias() throws {
        let f = try Fixture("attention")
        let mask = try f.ints("bias_key_mask")
        try check(f, prefix: "bias_", inputs: ["q", "k", "v", "bias"], outputs: [("out", "dy")]) { tape, x in
            [tape.attention(q: x[0], k: x[1], v: x[2], keyMask: mask, bias: x[3])]
        }
    }

    func testSwiGLUAndSiLU() throws {
        let f = try Fixture("swiglu")
        try check(f, inputs: ["gate", "up"], outputs: [("y", "dy")]) { tape, x in [tape.swiglu(gate: x[0], up: x[1])] }
        try check(f, prefix: "silu_", inputs: ["x"], outputs: [("y", "dy")]) { tape, x in [tape.silu(x[0])] }
    }

    func testSoftmaxAndLogSoftmax() throws {
        let f = try Fixture("softmax")
        try check(f, inputs: ["x"], outputs: [("y", "dy")]) { tape, x in [tape.softmax(x[0])] }
        try check(f, prefix: "log_", inputs: ["x"], outputs: [("y", "dy")]) { tape, x in [tape.logSoftmax(x[0])] }
    }

    func testTokenLogprobAndEntropyAtTemperature() throws {
        let f = try Fixture("token_logprob")
        let targets = try f.ints("targets")
        let temperature = Float(try f.double("temperature"))
        try check(f, inputs: ["logits"], outputs: [("logprob", "d_logprob"), ("entropy", "d_entropy")]) { tape, x in
            let r = tape.tokenLogprob(logits: x[0], targets: targets, temperature: temperature)
            return [r.logprob, r.entropy]
        }
    }

    func testCrossEntropyIgnoresMaskedRows() throws {
        let f = try Fixture("cross_entropy")
        let logits = try f.tensor("logits", requiresGrad: true)
        let tape = Tape()
        let loss = tape.crossEntropy(logits: logits, targets: try f.ints("targets"))
        assertClose(loss.values, try f.values("loss"), tolerance: forwardTolerance, "cross_entropy loss")
        tape.backward(loss)
        assertClose(logits.gradValues, try f.values("grad_logits"), tolerance: gradientTolerance, "cross_entropy grad")
    }

    func testEmbedding() throws {
        let f = try Fixture("embedding")
        let ids = try f.ints("ids"), shape = try f.shape("ids")
        try check(f, inputs: ["table"], outputs: [("y", "dy")]) { tape, x in
            [tape.embedding(x[0], ids: ids, idShape: shape)]
        }
    }

    /// Ten AdamW steps with global-norm clipping and a cosine schedule with warmup against
    /// torch.optim.AdamW + clip_grad_norm_ + LambdaLR.
    func testAdamWWithClippingAndCosineSchedule() throws {
        let f = try Fixture("adamw")
        let params = ParameterSet([("w1", try f.shape("w1_init")), ("w2", try f.shape("w2_init"))])
        params["w1"]!.storage.assign(try f.values("w1_init"))
        params["w2"]!.storage.assign(try f.values("w2_init"))
        let optimizer = AdamW(params, config: .init(beta1: try f.double("beta1"), beta2: try f.double("beta2"),
                                                    eps: try f.double("eps"), weightDecay: try f.double("weight_decay")))
        let schedule = LearningRateSchedule(.cosine, warmupSteps: Int(try f.double("warmup_steps")),
                                            totalSteps: Int(try f.double("total_steps")))
        let peak = try f.double("lr"), maxNorm = try f.double("max_grad_norm")
        let expectedLRs = try f.values("lrs"), expectedNorms = try f.values("grad_norms")
        for step in 0..<10 {
            params["w1"]!.grad!.assign(try f.values("g1_\(step)"))
            params["w2"]!.grad!.assign(try f.values("g2_\(step)"))
            let norm = params.clipGradNorm(maxNorm: maxNorm)
            XCTAssertEqual(norm, Double(expectedNorms[step]), accuracy: 1e-5 * Double(expectedNorms[step]), "norm, step \(step)")
            let lr = schedule.rate(peak, step: step)
            XCTAssertEqual(lr, Double(expectedLRs[step]), accuracy: 1e-7, "lr, step \(step)")
            optimizer.update(lr: lr)
            assertClose(params["w1"]!.values, try f.values("w1_\(step)"), tolerance: forwardTolerance, "adamw w1 step \(step)")
            assertClose(params["w2"]!.values, try f.values("w2_\(step)"), tolerance: forwardTolerance, "adamw w2 step \(step)")
        }
    }
}
