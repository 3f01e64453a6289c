import Foundation

/// Steps whose loss or gradient is NaN or infinite: the trainer's optimizer update is refused (the
/// weights and AdamW moments stay as they were, so a NaN never reaches them or a checkpoint), the
/// step is counted in train/nonfinite_steps, and `max_nonfinite_steps` such steps in a row stop the
/// run with an error.
extension TrainingRun {
    /// Runs `apply` (the optimizer update) when `loss` and `gradNorm` are finite; otherwise records
    /// the refusal for the loop and returns false. Gradients are zeroed by the next step's backward.
    @discardableResult
    public func update(loss: Double, gradNorm: Double, _ apply: () -> Void) -> Bool {
        let injected = injectedNonfinite.contains(state.step)
        guard loss.isFinite, gradNorm.isFinite, !injected else {
            refusedUpdates.append((loss, injected ? .nan : gradNorm))
            return false
        }
        apply()
        return true
    }
}

/// The loop's count of non-finite steps: in all (a checkpointed counter) and in a row.
struct NonfiniteSteps {
    static let totalCounter = "nonfinite_steps"
    static let inARowCounter = "nonfinite_steps_in_a_row"
    let limit: Int

    /// Counts step `step` (1-based, done) from its refused updates; logs it; throws after `limit`
    /// in a row. Returns the total for train/nonfinite_steps.
    func record(_ run: TrainingRun, step: Int) throws -> Double {
        let refused = run.refusedUpdates
        run.refusedUpdates = []
        var total = run.state.counters[Self.totalCounter] ?? 0, inARow = run.state.counters[Self.inARowCounter] ?? 0
        if let first = refused.first {
            total += 1
            inARow += 1
            run.log("step \(step): loss \(first.loss), gradient norm \(first.gradNorm) not finite: update skipped "
                    + "(\(Int(inARow)) in a row, \(Int(total)) in all)")
        } else {
            inARow = 0
        }
        run.state.counters[Self.totalCounter] = total
        run.state.counters[Self.inARowCounter] = inARow
        if Int(inARow) >= limit { throw TrainingError.nonfinite(steps: Int(inARow), lastStep: step) }
        return total
    }
}
