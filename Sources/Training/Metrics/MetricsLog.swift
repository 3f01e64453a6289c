import Foundation

/// metrics.jsonl: one JSON object per logged step, appended and flushed as it happens. On resume,
/// lines past the checkpoint's step (written after it, before a kill) are dropped first, so the
/// file reads as one run.
public final class MetricsLog {
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

    /// Appends one line: `step` plus the metrics, keys sorted.
    public func write(step: Int, _ metrics: [String: Double]) {
        var object: [String: Any] = metrics.mapValues { $0.isFinite ? $0 : NSNull() as Any }
        object["step"] = step
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            handle.write(data + Data("\n".utf8))
        }
    }
}

/// A one-line console progress bar with ETA and the main figures, redrawn in place on a terminal
/// and otherwise printed once at least `every` steps (a twentieth of the run) have passed since the
/// last printed line, and at the end, so logs stay short.
public final class ProgressBar {
    public let total: Int
    let start: Double
    let isTerminal: Bool
    let every: Int
    private var lastShown: Int?

    public init(total: Int, startTime: Double, isTerminal: Bool = isatty(STDOUT_FILENO) != 0) {
        self.total = total
        start = startTime
        self.isTerminal = isTerminal
        every = max(1, total / 20)
    }

    /// Whether `show` prints the line of `step` (always on a terminal).
    public func shows(step: Int) -> Bool {
        isTerminal || step == total || lastShown.map { step - $0 >= every } ?? true
    }

    /// The line for `step` of `total` with the given figures.
    public func line(step: Int, startStep: Int, now: Double, figures: [(String, String)]) -> String {
        let width = 24
        let done = total > 0 ? min(width, width * step / total) : width
        let elapsed = now - start
        let rate = Double(max(step - startStep, 1)) / max(elapsed, 1e-9)
        let eta = Double(total - step) / rate
        let figureText = figures.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
        return "[\(String(repeating: "#", count: done))\(String(repeating: ".", count: width - done))] \(step)/\(total) "
            + "\(Self.clock(elapsed)) < \(Self.clock(eta))  \(figureText)"
    }

    /// Prints the line of `step` (in place on a terminal).
    public func show(_ line: @autoclosure () -> String, step: Int) {
        guard shows(step: step) else { return }
        lastShown = step
        if isTerminal {
            print("\r\u{1B}[2K" + line(), terminator: step == total ? "\n" : "")
            fflush(nil)
        } else {
            print(line())
        }
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
