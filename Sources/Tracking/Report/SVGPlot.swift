import Foundation

/// A line plot as inline SVG: series of (x, y) points with axes, ticks with their values, axis
/// labels with units, and an optional band (mean +- std). NaN values break a line; a series of one
/// point is drawn as a dot. Geometry is plain linear scaling, so a test can recompute every point.
public struct SVGPlot {
    public struct Series {
        public var label: String
        public var points: [(x: Double, y: Double)]
        /// Per point, the band's half-height (e.g. reward_std), drawn around the line.
        public var band: [Double]?
        public var color: String
        public var dash: String?
        /// TensorBoard's exponential smoothing weight (0: none). A smoothed series is drawn over
        /// its raw points, which stay visible, faint.
        public var smoothing: Double

        public init(label: String, points: [(x: Double, y: Double)], band: [Double]? = nil, color: String, dash: String? = nil,
                    smoothing: Double = 0) {
            self.label = label
            self.points = points
            self.band = band
            self.color = color
            self.dash = dash
            self.smoothing = smoothing
        }
    }

    /// TensorBoard's debiased exponential moving average of finite values (NaN stays NaN).
    public static func smoothed(_ values: [Double], weight: Double) -> [Double] {
        var last = 0.0, count = 0
        return values.map { v in
            guard v.isFinite else { return v }
            last = last * weight + (1 - weight) * v
            count += 1
            return last / (1 - pow(weight, Double(count)))
        }
    }

    public static let width = 640.0, height = 300.0
    public static let margin = (left: 70.0, right: 16.0, top: 14.0, bottom: 46.0)

    public var series: [Series]
    public var xLabel: String
    public var yLabel: String

    public init(series: [Series], xLabel: String, yLabel: String) {
        self.series = series
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// The data ranges (finite values only, bands included), widened when flat.
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>)? {
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            for (i, p) in s.points.enumerated() where p.x.isFinite && p.y.isFinite {
                xs.append(p.x)
                ys.append(p.y)
                if let b = s.band?[i], b.isFinite { ys += [p.y - b, p.y + b] }
            }
        }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else { return nil }
        return (Self.widened(x0...x1), Self.widened(y0...y1))
    }

    static func widened(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
        r.upperBound > r.lowerBound ? r : (r.lowerBound - max(abs(r.lowerBound) * 0.05, 0.5))...(r.upperBound + max(abs(r.upperBound) * 0.05, 0.5))
    }

    /// The pixel position of a data point.
    public static func position(_ x: Double, _ y: Double, ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> (x: Double, y: Double) {
        let plotWidth = width - margin.left - margin.right, plotHeight = height - margin.top - margin.bottom
        let px = margin.left + (x - ranges.x.lowerBound) / (ranges.x.upperBound - ranges.x.lowerBound) * plotWidth
        let py = margin.top + (1 - (y - ranges.y.lowerBound) / (ranges.y.upperBound - ranges.y.lowerBound)) * plotHeight
        return (px, py)
    }

    static func format(_ v: Double) -> String { String(format: "%.2f", v) }

    /// About five round tick values across `range` (1, 2 or 5 times a power of ten apart).
    public static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        let raw = span / 5, power = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        // Whole multiples of the step, rounded to its decimals (3 x 0.2 is 0.6, not 0.6000000000000001).
        let scale = pow(10, max(0, -floor(log10(step)) + 1))
        let first = Int(ceil(range.lowerBound / step)), last = Int(floor(range.upperBound / step + 1e-9))
        return first > last ? [] : (first...last).map { (Double($0) * step * scale).rounded() / scale }
    }

    static func tickText(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e5 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        return String(format: a >= 1 ? "%.2g" : "%.3g", v)
    }

    /// The SVG element (its class is `cssClass`); "no data" when no series has a finite point.
    public func svg(cssClass: String) -> String {
        let w = Self.width, h = Self.height, m = Self.margin
        var out = "<svg class=\"\(cssClass)\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" aria-label=\"\(HTML.escape(yLabel)) against \(HTML.escape(xLabel))\">"
        guard let ranges else {
            return out + "<text x=\"\(w / 2)\" y=\"\(h / 2)\" text-anchor=\"middle\" class=\"empty\">no data</text></svg>"
        }
        out += "<rect x=\"\(m.left)\" y=\"\(m.top)\" width=\"\(w - m.left - m.right)\" height=\"\(h - m.top - m.bottom)\" class=\"frame\"/>"
        for t in Self.ticks(ranges.x) {
            let p = Self.position(t, ranges.y.lowerBound, ranges: ranges)
            out += "<line x1=\"\(Self.format(p.x))\" y1=\"\(m.top)\" x2=\"\(Self.format(p.x))\" y2=\"\(h - m.bottom)\" class=\"grid\"/>"
            out += "<text x=\"\(Self.format(p.x))\" y=\"\(h - m.bottom + 16)\" text-anchor=\"middle\">\(Self.tickText(t))</text>"
        }
        for t in Self.ticks(ranges.y) {
            let p = Self.position(ranges.x.lowerBound, t, ranges: ranges)
            out += "<line x1=\"\(m.left)\" y1=\"\(Self.format(p.y))\" x2=\"\(w - m.right)\" y2=\"\(Self.format(p.y))\" class=\"grid\"/>"
            out += "<text x=\"\(m.left - 6)\" y=\"\(Self.format(p.y + 4))\" text-anchor=\"end\">\(Self.tickText(t))</text>"
        }
        out += "<text x=\"\(m.left + (w - m.left - m.right) / 2)\" y=\"\(h - 8)\" text-anchor=\"middle\" class=\"axis\">\(HTML.escape(xLabel))</text>"
        out += "<text transform=\"translate(16 \(m.top + (h - m.top - m.bottom) / 2)) rotate(-90)\" text-anchor=\"middle\" class=\"axis\">\(HTML.escape(yLabel))</text>"
        for s in series {
            var shown = s
            if s.smoothing > 0 {
                shown.points = zip(s.points, Self.smoothed(s.points.map(\.y), weight: s.smoothing)).map { ($0.0.x, $0.1) }
                shown.band = s.band.map { Self.smoothed($0, weight: s.smoothing) }
                out += lines(s, ranges, attributes: "stroke-width=\"1\" stroke-opacity=\"0.25\" class=\"raw\"")
            }
            out += band(shown, ranges)
            out += lines(shown, ranges, attributes: "stroke-width=\"1.6\"" + (s.smoothing > 0 ? " class=\"smoothed\"" : " class=\"raw\""))
        }
        return out + "</svg>"
    }

    /// A series' polylines (one per run of finite points) and dots (runs of one point).
    func lines(_ s: Series, _ ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>), attributes: String) -> String {
        let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        var out = ""
        for segment in segments(s.points) {
            let pixels = segment.map { Self.position($0.x, $0.y, ranges: ranges) }
            if pixels.count == 1 {
                out += "<circle cx=\"\(Self.format(pixels[0].x))\" cy=\"\(Self.format(pixels[0].y))\" r=\"3\" fill=\"\(s.color)\"/>"
            } else {
                let points = pixels.map { "\(Self.format($0.x)),\(Self.format($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(s.color)\" \(attributes)\(dash)/>"
            }
        }
        return out
    }

    /// Runs of consecutive finite points.
    func segments(_ points: [(x: Double, y: Double)]) -> [[(x: Double, y: Double)]] {
        var out: [[(x: Double, y: Double)]] = [], current: [(x: Double, y: Double)] = []
        for p in points {
            if p.x.isFinite && p.y.isFinite {
                current.append(p)
            } else if !current.isEmpty {
                out.append(current)
                current = []
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    func band(_ s: Series, _ ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> String {
        guard let band = s.band else { return "" }
        let points = zip(s.points, band).filter { $0.0.x.isFinite && $0.0.y.isFinite && $0.1.isFinite }
        guard points.count > 1 else { return "" }
        let upper = points.map { Self.position($0.0.x, $0.0.y + $0.1, ranges: ranges) }
        let lower = points.reversed().map { Self.position($0.0.x, $0.0.y - $0.1, ranges: ranges) }
        let text = (upper + lower).map { "\(Self.format($0.x)),\(Self.format($0.y))" }.joined(separator: " ")
        return "<polygon points=\"\(text)\" fill=\"\(s.color)\" fill-opacity=\"0.15\" stroke=\"none\"/>"
    }
}

/// HTML text escaping (a completion may hold `<script>`).
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
