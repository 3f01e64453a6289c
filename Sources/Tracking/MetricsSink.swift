/// Where a run's logged metrics go (metrics.jsonl, TensorBoard event files): one call per logged
/// step, appended and flushed as the run goes.
public protocol MetricsSink: AnyObject {
    /// One logged step's metrics (TRL names; NaN where a figure is undefined).
    func write(step: Int, _ metrics: [String: Double]) throws
}

/// The `report_to` choices: which sinks a run writes.
public enum MetricsReport: String, CaseIterable, Sendable {
    /// metrics.jsonl in the output folder.
    case jsonl
    /// events.out.tfevents.* in the output folder.
    case tensorboard
    /// nothing.
    case none
}
