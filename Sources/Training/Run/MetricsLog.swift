import Foundation

/// Where a run's logged metrics go (metrics.jsonl; TensorBoard event files).
public protocol MetricsSink: AnyObject {
    /// One logged step's metrics (TRL names; NaN where a figure is undefined).
    func write(step: Int, _ metrics: [String: Double]) throws
}

/// metrics.jsonl: one JSON object per logged step, appended and flushed as it happens. On resume,
/// lines past the checkpoint's step (written after it, before a kill) are dropped first, so the
/// file reads as one run.
public final class MetricsLog: MetricsSink {
    public let url: URL
    private let handle: FileHandle

    public init(url: URL, resumingAt step: Int?) throws {
        self.url = url
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let step, let text = try? String(contentsOf: url, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let s = object["step"] as? Int else { return false }
                return s <= step
            }
            try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: url, options: .atomic)
        } else {
            try Data().write(to: url)
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw CheckpointError.corrupt(file: url.path, reason: "cannot open for appending")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Appends one line: `step` plus the metrics, keys sorted; non-finite values as null.
    public func write(step: Int, _ metrics: [String: Double]) throws {
        var object: [String: Any] = metrics.mapValues { $0.isFinite ? $0 : NSNull() as Any }
        object["step"] = step
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
        } catch {
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
