import Foundation

/// TensorBoard event files written by our own small writer: `events.out.tfevents.<unix time>.<host>`
/// in the run's folder, first record `Event{wall_time, file_version: "brain.Event:2"}`, then one
/// Event per logged step holding a scalar per metric, each record appended and flushed as it is
/// written. Tags are TRL's (transformers' TensorBoardCallback): `eval/...` as is, everything else
/// under `train/`. A resumed run writes a new file whose steps continue; TensorBoard merges them.
public final class EventFileWriter: MetricsSink {
    public let url: URL
    private let handle: FileHandle
    /// Seconds since 1970, per event (tests set it).
    var clock: () -> Double = { Date().timeIntervalSince1970 }

    public init(directory: URL, host: String = ProcessInfo.processInfo.hostName) throws {
        let now = Date().timeIntervalSince1970
        // A second file in the same second (a quick resume) gets a suffix rather than replacing the first.
        let base = "events.out.tfevents.\(Int(now)).\(host.isEmpty ? "localhost" : host)"
        var name = base, n = 0
        while FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path) {
            n += 1
            name = "\(base).\(n)"
        }
        url = directory.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: url)
        } catch {
            throw TrackingError.unwritable(file: url.path, reason: error.localizedDescription)
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrackingError.unwritable(file: url.path, reason: "cannot open for writing")
        }
        self.handle = handle
        try write(Event(wallTime: now, fileVersion: "brain.Event:2"))
    }

    deinit { try? handle.close() }

    /// The tag of a metric, as transformers' TensorBoardCallback rewrites log keys.
    public static func tag(_ metric: String) -> String {
        metric.hasPrefix("eval/") || metric.hasPrefix("train/") ? metric : "train/" + metric
    }

    /// One Event with a scalar per finite metric (sorted by tag), at `step`.
    public func write(step: Int, _ metrics: [String: Double]) throws {
        let scalars = metrics.filter { $0.value.isFinite }.map { Event.Scalar(tag: Self.tag($0.key), value: Float($0.value)) }
            .sorted { $0.tag < $1.tag }
        try write(Event(wallTime: clock(), step: Int64(step), scalars: scalars))
    }

    func write(_ event: Event) throws {
        do {
            try handle.write(contentsOf: TFRecord.frame(event.encoded))
        } catch {
            throw TrackingError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}

/// Reads event files back (for tests and for `grpo report` on runs that have only event files).
public enum EventFileReader {
    /// The events of one file up to its last whole record; `stoppedBecause` says why reading ended
    /// early (a cut or corrupt record), nil when the whole file was read.
    public static func read(_ url: URL) throws -> (events: [Event], stoppedBecause: String?) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrackingError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let (records, stopped) = TFRecord.records([UInt8](data))
        var events: [Event] = []
        for (i, record) in records.enumerated() {
            guard let event = try? Event(decoding: record) else { return (events, "record \(i) is not an Event") }
            events.append(event)
        }
        return (events, stopped)
    }

    /// Every `events.out.tfevents.*` file of a folder, in name (time) order.
    public static func files(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("events.out.tfevents.") }.sorted().map { directory.appendingPathComponent($0) }
    }
}
