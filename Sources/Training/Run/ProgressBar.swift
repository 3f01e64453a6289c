import Foundation

/// A one-line console progress bar with ETA and the main figures, redrawn in place on a terminal
/// and otherwise printed once at least `every` steps (a twentieth of the run) or a minute have
/// passed since the last printed line, and at the end, so logs stay short and a slow run (a real
/// model's steps take half a minute, a time limit may end it long before a twentieth) still shows
/// where it is.
public final class ProgressBar {
    public let total: Int
    let start: Double
    let isTerminal: Bool
    let every: Int
    /// Seconds after which a line is printed off a terminal whatever the steps.
    let secondsBetweenLines = 60.0
    private var lastShown: (step: Int, time: Double)?
    /// A terminal line drawn without its newline yet.
    private var open = false

    public init(total: Int, startTime: Double, isTerminal: Bool = isatty(STDOUT_FILENO) != 0) {
        self.total = total
        start = startTime
        self.isTerminal = isTerminal
        every = max(1, total / 20)
    }

    /// Whether `show` prints the line of `step` offered at `time` (seconds of a monotonic clock;
    /// always on a terminal).
    public func shows(step: Int, at time: Double = ProcessInfo.processInfo.systemUptime) -> Bool {
        isTerminal || step == total || lastShown.map { step - $0.step >= every || time - $0.time >= secondsBetweenLines } ?? true
    }

    /// The line for `step` of `total` with the given figures. `timeLeft`: seconds until a time limit
    /// ends the run (max_train_time), when that comes before `total`.
    public func line(step: Int, startStep: Int, now: Double, figures: [(String, String)], timeLeft: Double? = nil) -> String {
        let width = 24
        let done = total > 0 ? min(width, width * step / total) : width
        let elapsed = now - start
        let rate = Double(max(step - startStep, 1)) / max(elapsed, 1e-9)
        let eta = min(Double(total - step) / rate, max(0, timeLeft ?? .infinity))
        let figureText = figures.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
        return "[\(String(repeating: "#", count: done))\(String(repeating: ".", count: width - done))] \(step)/\(total) "
            + "\(Self.clock(elapsed)) < \(Self.clock(eta))  \(figureText)"
    }

    /// Prints the line of `step` (in place on a terminal).
    public func show(_ line: @autoclosure () -> String, step: Int, at time: Double = ProcessInfo.processInfo.systemUptime) {
        guard shows(step: step, at: time) else { return }
        lastShown = (step, time)
        if isTerminal {
            print("\r\u{1B}[2K" + line(), terminator: step == total ? "\n" : "")
            open = step != total
            fflush(nil)
        } else {
            print(line())
        }
    }

    /// Ends a line drawn in place, so the next printed line starts on its own.
    public func breakLine() {
        guard open else { return }
        print("")
        open = false
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
