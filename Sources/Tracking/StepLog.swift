import Foundation

/// A JSON Lines file of a run with one object per line, each with a `step` (metrics.jsonl,
/// completions.jsonl), appended and flushed as it happens. On resume, lines past the checkpoint's
/// step (written after it, before a kill) are dropped first, so the file reads as one run.
public final class StepLog {
    public let url: URL
    private let handle: FileHandle

    public init(url: URL, resumingAt step: Int?) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let step, let text = try? String(contentsOf: url, encoding: .utf8) {
                let kept = text.split(separator: "\n").filter { line in
                    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          let s = object["step"] as? Int else { return false }
                    return s <= step
                }
                try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: url, options: .atomic)
            } else {
                try Data().write(to: url)
            }
        } catch {
            throw TrackingError.unwritable(file: url.path, reason: error.localizedDescription)
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrackingError.unwritable(file: url.path, reason: "cannot open for appending")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Appends lines, one object each (keys sorted), in one write.
    public func append(_ objects: [[String: JSONLine]]) throws {
        var text = ""
        for object in objects {
            JSONLine.object(object).write(into: &text)
            text += "\n"
        }
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw TrackingError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}

/// metrics.jsonl: `step` plus the metrics, non-finite values as null.
public final class MetricsLog: MetricsSink {
    let log: StepLog
    public var url: URL { log.url }

    public init(url: URL, resumingAt step: Int?) throws { log = try StepLog(url: url, resumingAt: step) }

    public func write(step: Int, _ metrics: [String: Double]) throws {
        var object = metrics.mapValues { JSONLine.number($0) }
        object["step"] = .int(step)
        try log.append([object])
    }
}
