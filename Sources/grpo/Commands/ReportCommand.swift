import ArgumentParser
import Foundation
import Tracking

/// `grpo report RUN_DIR [RUN_DIR ...] [--trl trainer_state.json] [--out report.html]`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML report (plots, summary, settings, sample completions) for one or more runs.",
        discussion: "Each RUN_DIR is a training output_dir (metrics.jsonl, or its TensorBoard event files). Runs are overlaid; "
            + "--trl adds a TRL run's log_history (its trainer_state.json).")

    @Argument(help: "Run folders.") var runs: [String]
    @Option(help: "TRL trainer_state.json files to overlay.") var trl: [String] = []
    @Option(help: "Names for the runs, in order (default: the folder names).") var name: [String] = []
    @Option(help: "The HTML file to write.") var out = "report.html"
    @Option(help: "The page title.") var title = "swift-grpo report"

    func validate() throws {
        guard !runs.isEmpty || !trl.isEmpty else { throw ValidationError("give at least one run folder") }
    }

    func run() throws {
        let path = try Self.write(runs: runs.map { URL(fileURLWithPath: $0) }, trl: trl.map { URL(fileURLWithPath: $0) }, names: name,
                                  title: title, to: URL(fileURLWithPath: out))
        print("wrote \(path.path)")
    }

    /// Reads the runs and writes the page atomically.
    static func write(runs: [URL], trl: [URL] = [], names: [String] = [], title: String, to out: URL) throws -> URL {
        var records = try runs.enumerated().map { i, url in try RunRecord.load(url, name: i < names.count ? names[i] : nil) }
        records += try trl.map { try RunRecord.loadTrainerState($0) }
        let html = ReportPage(runs: records, title: title).html()
        do {
            try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(html.utf8).write(to: out, options: .atomic)
        } catch {
            throw TrackingError.unwritable(file: out.path, reason: error.localizedDescription)
        }
        return out
    }
}
