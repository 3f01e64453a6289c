import Foundation

/// `grpo report`: one self-contained HTML page (inline CSS, SVG and a few lines of script; no
/// network, fonts or external files) for one or more runs overlaid: a summary table, the settings,
/// plots of every logged metric family against step or training time, and sample completions.
public struct ReportPage {
    public var runs: [RunRecord]
    public var title: String

    public init(runs: [RunRecord], title: String = "swift-grpo report") {
        self.runs = runs
        self.title = title
    }

    /// Eight colours at most: one per run (or per series when there is one run).
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    static let dashes = [nil, "6 3", "2 3", "8 3 2 3", "1 2", "10 4"]
    /// Series with this many points or more are drawn smoothed (TensorBoard's EMA, weight 0.9) over their faint raw points.
    static let smoothingFrom = 100

    /// One plot: metrics drawn together, a unit, and a factor (100 for fractions shown as %).
    public struct Panel {
        public var title: String
        public var unit: String
        public var scale: Double
        public var keys: [String]
        public var band: String?
    }

    /// The panels, each with the keys some run logged.
    public var panels: [Panel] {
        let keys = runs.reduce(into: Set<String>()) { $0.formUnion($1.keys) }
        func sorted(_ filter: (String) -> Bool) -> [String] { keys.filter(filter).sorted() }
        let heldOut = ["eval/greedy", "eval/pass@1"] + sorted { $0.hasPrefix("eval/pass@") && $0 != "eval/pass@1" }
            + sorted { $0.hasPrefix("eval/maj@") }
        let all: [Panel] = [
            Panel(title: "Reward (mean, band: std)", unit: "reward", scale: 1, keys: ["reward"], band: "reward_std"),
            Panel(title: "Held-out accuracy", unit: "% of held-out problems", scale: 100, keys: heldOut),
            Panel(title: "Rewards per function", unit: "mean score", scale: 1, keys: sorted { $0.hasPrefix("rewards/") && $0.hasSuffix("/mean") }),
            Panel(title: "Loss", unit: "loss", scale: 1, keys: ["loss", "eval/loss"]),
            Panel(title: "KL to the reference", unit: "nats per token", scale: 1, keys: ["kl"]),
            Panel(title: "Entropy", unit: "nats per token", scale: 1, keys: ["entropy"]),
            Panel(title: "Completion length", unit: "tokens", scale: 1, keys: ["completions/mean_length"]),
            Panel(title: "Clipped completions", unit: "% at max_completion_length", scale: 100, keys: ["completions/clipped_ratio"]),
            Panel(title: "Clip ratios", unit: "% of tokens", scale: 100,
                  keys: ["clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"]),
            Panel(title: "Gradient norm (before clipping)", unit: "L2 norm", scale: 1, keys: ["grad_norm"]),
            Panel(title: "Learning rate", unit: "learning rate", scale: 1, keys: ["learning_rate"]),
            Panel(title: "Step time and its split", unit: "seconds", scale: 1,
                  keys: ["step_time", "time/generate", "time/reward", "time/reference", "time/policy", "time/optimizer"]),
            Panel(title: "Peak memory", unit: "MB resident", scale: 1, keys: ["memory/peak_rss_mb"]),
        ]
        return all.compactMap { panel in
            var p = panel
            p.keys = panel.keys.filter(keys.contains)
            return p.keys.isEmpty ? nil : p
        }
    }

    /// A panel's plot against step or training time.
    public func plot(_ panel: Panel, time: Bool) -> SVGPlot {
        var series: [SVGPlot.Series] = []
        for (r, run) in runs.enumerated() {
            for (k, key) in panel.keys.enumerated() {
                let points = run.series(key, time: time)
                guard !points.isEmpty else { continue }
                let band = panel.band.map { b in run.lines.filter { $0.values[key] != nil && (!time || $0.values["train_time"] ?? $0.values["wall_time"] != nil) }
                    .map { ($0.values[b] ?? .nan) * panel.scale } }
                let color = runs.count > 1 ? Self.palette[r % 8] : Self.palette[k % 8]
                series.append(SVGPlot.Series(label: runs.count > 1 ? "\(run.name) \(key)" : key,
                                             points: points.map { ($0.x, $0.y * panel.scale) }, band: band, color: color,
                                             dash: runs.count > 1 ? Self.dashes[k % Self.dashes.count] : nil,
                                             smoothing: points.count >= Self.smoothingFrom ? 0.9 : 0))
            }
        }
        return SVGPlot(series: series, xLabel: time ? "training time, s (evaluation excluded)" : "optimizer step", yLabel: panel.unit)
    }

    public func html() -> String {
        var body = "<h1>\(HTML.escape(title))</h1>"
        body += "<p class=\"note\">Series of \(Self.smoothingFrom) points or more: smoothed (exponential moving average, weight 0.9, as "
            + "TensorBoard draws it) over the raw values, faint.</p>"
        body += "<p class=\"switch\">x axis: <label><input type=\"radio\" name=\"x\" value=\"step\" checked> step</label> "
            + "<label><input type=\"radio\" name=\"x\" value=\"time\"> training time</label></p>"
        body += summaryTable()
        body += "<div class=\"plots\">"
        for panel in panels {
            let step = plot(panel, time: false), time = plot(panel, time: true)
            body += "<figure><figcaption>\(HTML.escape(panel.title))</figcaption>\(step.svg(cssClass: "x-step"))\(time.svg(cssClass: "x-time"))"
            body += "<div class=\"legend\">" + step.series.map { s in
                "<span><svg width=\"22\" height=\"8\"><line x1=\"0\" y1=\"4\" x2=\"22\" y2=\"4\" stroke=\"\(s.color)\" stroke-width=\"2\""
                    + (s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/></svg>\(HTML.escape(s.label))</span>"
            }.joined() + "</div></figure>"
        }
        body += "</div>" + completionsSection() + settingsSection()
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title))</title><style>\(Self.css)</style></head>
            <body>\(body)<script>\(Self.script)</script></body></html>

            """
    }

    static let css = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px auto;max-width:1400px;padding:0 12px;color:#222}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        .plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:14px}
        figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
        svg{width:100%;height:auto;font-size:11px}svg text{fill:#333}svg .axis{font-size:12px}
        .note{color:#666;font-size:12px}.frame{fill:none;stroke:#999}.grid{stroke:#eee}.empty{fill:#888;font-size:16px}
        body.time .x-step{display:none}body:not(.time) .x-time{display:none}
        .legend span{display:inline-flex;align-items:center;gap:4px;margin-right:12px;font-size:12px;white-space:nowrap}
        .table{overflow-x:auto}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
        td.text{font-family:ui-monospace,monospace;white-space:pre-wrap;max-width:520px;word-break:break-word}
        """
    static let script = """
        document.querySelectorAll('input[name=x]').forEach(function(r){r.addEventListener('change',function(){document.body.classList.toggle('time',r.value==='time'&&r.checked);});});
        """

    /// Per run: steps, wall time, steps/s, peak RSS, and held-out figures at the first and last evaluation.
    func summaryTable() -> String {
        let evalKeys = panels.first { $0.title == "Held-out accuracy" }?.keys ?? []
        var rows = "<tr><th>run</th><th>steps</th><th>wall time</th><th>steps/s</th><th>peak RSS</th>"
            + evalKeys.map { "<th>\(HTML.escape($0)) start &rarr; end</th>" }.joined() + "</tr>"
        for run in runs {
            let steps = run.lines.map(\.step).max() ?? 0
            let wall = run.lines.compactMap { $0.values["wall_time"] }.max()
            let rss = run.lines.compactMap { $0.values["memory/peak_rss_mb"] }.max()
            let evals = run.lines.filter { line in evalKeys.contains { line.values[$0] != nil } }
            rows += "<tr><td>\(HTML.escape(run.name))</td><td>\(steps)</td><td>\(wall.map(Self.duration) ?? "-")</td>"
                + "<td>\(wall.map { String(format: "%.2f", Double(steps) / max($0, 1e-9)) } ?? "-")</td>"
                + "<td>\(rss.map { String(format: "%.0f MB", $0) } ?? "-")</td>"
                + evalKeys.map { key in
                    let first = evals.first?.values[key], last = evals.last?.values[key]
                    return "<td>\(Self.percent(first)) &rarr; \(Self.percent(last))</td>"
                }.joined() + "</tr>"
        }
        return "<h2>Summary</h2><div class=\"table\"><table>\(rows)</table></div>"
    }

    static func percent(_ v: Double?) -> String { v.map { $0.isFinite ? String(format: "%.1f%%", 100 * $0) : "-" } ?? "-" }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t / 60 % 60) : String(format: "%dm%02ds", t / 60, t % 60)
    }

    /// A few completions (the first four) at the first, middle and last logged steps of each run.
    func completionsSection() -> String {
        var out = ""
        for run in runs where !run.completions.isEmpty {
            let steps = Array(Set(run.completions.compactMap { $0["step"] as? Int })).sorted()
            let chosen = Array(Set([steps.first, steps[steps.count / 2], steps.last].compactMap { $0 })).sorted()
            var rows = "<tr><th>step</th><th>prompt (end)</th><th>completion</th><th>rewards</th><th>advantage</th></tr>"
            for step in chosen {
                for c in run.completions.filter({ $0["step"] as? Int == step }).prefix(4) {
                    let prompt = String((c["prompt"] as? String ?? "").suffix(80))
                    let rewards = (c["rewards"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }
                        .map { "\($0.key) \(($0.value as? Double).map { String(format: "%.2f", $0) } ?? "-")" }.joined(separator: "<br>")
                    let advantage = (c["advantage"] as? Double).map { String(format: "%+.3f", $0) } ?? "-"
                    rows += "<tr><td>\(step)</td><td class=\"text\">\(HTML.escape(prompt))</td>"
                        + "<td class=\"text\">\(HTML.escape(c["completion"] as? String ?? ""))</td><td>\(rewards)</td><td>\(advantage)</td></tr>"
                }
            }
            out += "<h2>Sample completions: \(HTML.escape(run.name))</h2><div class=\"table\"><table>\(rows)</table></div>"
        }
        return out
    }

    func settingsSection() -> String {
        runs.filter { !$0.settings.isEmpty }.map { run in
            "<details><summary>Settings: \(HTML.escape(run.name))</summary><div class=\"table\"><table>"
                + run.settings.map { "<tr><td>\(HTML.escape($0.key))</td><td class=\"text\">\(HTML.escape($0.value))</td></tr>" }.joined()
                + "</table></div></details>"
        }.joined()
    }
}
