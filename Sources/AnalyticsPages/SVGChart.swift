import Foundation

/// One value of a daily series: `label` is usually a day (`2026-11-03`), `value` a count or an amount.
public struct ChartPoint: Sendable, Equatable {
    public let label: String
    public let value: Double

    public init(label: String, value: Double) {
        self.label = label
        self.value = value
    }
}

/// One row of a horizontal bar chart: the bar is scaled by `value`, `valueText` is written right of it.
public struct ChartBar: Sendable, Equatable {
    public let label: String
    public let value: Double
    public let valueText: String

    public init(label: String, value: Double, valueText: String) {
        self.label = label
        self.value = value
        self.valueText = valueText
    }
}

/// Inline SVG charts for the server-rendered pages: one `<svg>` element per chart, to be embedded raw (`{{{chart}}}`).
///
/// Every string taken from the inputs is XML-escaped here (and characters XML cannot hold are dropped), so the result
/// is safe to embed without further escaping. The output is deterministic (no ids, no randomness), scales with its
/// container (`width="100%"`, `max-width` the nominal width) and carries, per data point, its exact value in
/// `data-label` / `data-value` attributes and a `<title>` tooltip. Negative, NaN and infinite values count as 0.
public enum SVGChart {
    // MARK: Public charts

    /// A daily series as a line with a soft filled area beneath, y gridlines with 3–5 "nice" ticks (0 at the bottom,
    /// compact labels 1.2k / 3.4M), x labels for the first, middle and last points (`yyyy-MM-dd` shown as `Nov 3`) and a
    /// dot on the last point. An empty or all-zero series draws the axes and "No runs in this period".
    public static func daily(_ points: [ChartPoint], title: String, unit: String, width: Int = 640, height: Int = 200) -> String {
        lineChart([Line(points: points, name: "", previous: false)], title: title, unit: unit, width: width, height: height, legend: false)
    }

    /// Horizontal bars, one 28 px row per bar: the label in a fixed column on the left (truncated with "…" when too long),
    /// the bar scaled to the largest value, `valueText` right of the bar. No bars: a short "No data" chart.
    public static func bars(_ bars: [ChartBar], title: String, width: Int = 640) -> String {
        barChart(bars, title: title, width: width)
    }

    /// Two daily series overlaid, `current` against `previous` (the period of the same length before it, drawn dashed and
    /// muted), with a legend naming both. Points are aligned by position; the x labels are the current period's days.
    public static func comparison(
        current: [ChartPoint], previous: [ChartPoint], currentName: String, previousName: String, title: String, unit: String,
        width: Int = 640, height: Int = 200
    ) -> String {
        lineChart(
            [Line(points: previous, name: previousName, previous: true), Line(points: current, name: currentName, previous: false)],
            title: title, unit: unit, width: width, height: height, legend: true)
    }

    // MARK: Style

    enum Style {
        static let accent = "#0969da"
        static let areaOpacity = "0.12"
        static let grid = "#d1d9e0"
        static let text = "#59636e"
        static let ink = "#1f2328"
        static let previous = "#8c959f"
        static let fontFamily = "system-ui, sans-serif"
        static let fontSize = 11.0
        /// Approximate advance of one character at 11 px, for fitting labels.
        static let charWidth = 6.5
        static let emptyMessage = "No runs in this period"
        static let noData = "No data"
    }

    // MARK: Line charts

    struct Line {
        var points: [ChartPoint]
        var name: String
        var previous: Bool
    }

    private static func lineChart(_ rawLines: [Line], title: String, unit: String, width: Int, height: Int, legend: Bool) -> String {
        let width = max(width, 200)
        let height = max(height, 100)
        let lines = rawLines.map { line in
            Line(points: line.points.map { ChartPoint(label: $0.label, value: sanitized($0.value)) }, name: line.name, previous: line.previous)
        }
        let values = lines.flatMap { $0.points.map(\.value) }
        let highest = values.max() ?? 0
        let isEmpty = highest <= 0
        let ticks = niceTicks(max: highest, integral: values.allSatisfy { $0 == $0.rounded() })
        let top = ticks.last ?? 0
        let tickLabels = ticks.map { compact($0) }

        // Plot area: tick labels on the left, unit caption and legend above, x labels below.
        let w = Double(width)
        let h = Double(height)
        let widestTick = Double(tickLabels.map(\.count).max() ?? 1)
        let left = (max(widestTick, 2) * Style.charWidth + 12).rounded()
        let right = 10.0
        let plotTop = 24.0
        let plotBottom = h - 24
        let plotWidth = w - left - right
        let count = lines.map(\.points.count).max() ?? 0
        func x(_ index: Int) -> Double {
            count > 1 ? left + plotWidth * Double(index) / Double(count - 1) : left + plotWidth / 2
        }
        func y(_ value: Double) -> Double {
            top > 0 ? plotBottom - (plotBottom - plotTop) * value / top : plotBottom
        }

        var svg = SVGWriter(width: width, height: height, title: title)

        // Gridlines (the one at 0 is the x axis), the y axis, tick labels.
        svg.open("g", ["stroke": Style.grid, "stroke-width": "1", "shape-rendering": "crispEdges"])
        for tick in ticks {
            svg.element("line", ["x1": num(left), "y1": num(y(tick)), "x2": num(w - right), "y2": num(y(tick))])
        }
        svg.element("line", ["x1": num(left), "y1": num(plotTop), "x2": num(left), "y2": num(plotBottom)])
        svg.close("g")
        svg.open("g", ["fill": Style.text, "text-anchor": "end"])
        for (tick, label) in zip(ticks, tickLabels) {
            svg.text(label, ["x": num(left - 6), "y": num(y(tick) + 3.5)])
        }
        svg.close("g")

        // The unit, top left.
        let caption = truncated(clean(unit), toFit: legend ? w / 3 : w / 2)
        if !caption.isEmpty {
            svg.text(caption, ["x": "0", "y": "12", "fill": Style.text])
        }

        // X labels: first, middle and last point of the first series that has points (the current one in comparisons).
        if let source = lines.reversed().first(where: { !$0.points.isEmpty }) {
            let n = source.points.count
            let indices: [(Int, String)] =
                n == 1 ? [(0, "middle")] : n == 2 ? [(0, "start"), (1, "end")] : [(0, "start"), ((n - 1) / 2, "middle"), (n - 1, "end")]
            let fit = count > 1 ? plotWidth / 3 - Style.charWidth : plotWidth
            svg.open("g", ["fill": Style.text])
            for (index, anchor) in indices {
                let label = truncated(axisLabel(clean(source.points[index].label)), toFit: fit)
                svg.text(label, ["x": num(x(index)), "y": num(plotBottom + 16), "text-anchor": anchor])
            }
            svg.close("g")
        }

        if !isEmpty {
            // Areas and lines: previous first so the current series is drawn on top.
            for line in lines where line.points.count > 1 && !line.previous {
                var d = "M" + num(x(0)) + "," + num(plotBottom)
                for (index, point) in line.points.enumerated() {
                    d += "L" + num(x(index)) + "," + num(y(point.value))
                }
                d += "L" + num(x(line.points.count - 1)) + "," + num(plotBottom) + "Z"
                svg.element("path", ["d": d, "fill": Style.accent, "fill-opacity": Style.areaOpacity, "stroke": "none"])
            }
            for line in lines {
                let color = line.previous ? Style.previous : Style.accent
                if line.points.count > 1 {
                    var d = ""
                    for (index, point) in line.points.enumerated() {
                        d += (index == 0 ? "M" : "L") + num(x(index)) + "," + num(y(point.value))
                    }
                    var attributes = [
                        "d": d, "fill": "none", "stroke": color, "stroke-width": line.previous ? "1.5" : "2",
                        "stroke-linejoin": "round", "stroke-linecap": "round",
                    ]
                    if line.previous { attributes["stroke-dasharray"] = "4 3" }
                    svg.element("path", attributes)
                }
                // A dot on the last point (the only point of a one-day series); the previous period gets one only then.
                if let last = line.points.indices.last, !line.previous || line.points.count == 1 {
                    svg.element(
                        "circle",
                        [
                            "cx": num(x(last)), "cy": num(y(line.points[last].value)), "r": "3.5", "fill": color, "stroke": "#ffffff",
                            "stroke-width": "1.5",
                        ])
                }
            }
        }

        // Hit targets: invisible circles carrying the exact value and a tooltip.
        let radius = count > 1 ? min(8, max(3, plotWidth / Double(count - 1) / 2)) : 8
        let unitSuffix = clean(unit).isEmpty ? "" : " " + clean(unit)
        svg.open("g", ["fill": "#ffffff", "fill-opacity": "0", "pointer-events": "all"])
        for line in lines {
            for (index, point) in line.points.enumerated() {
                var attributes = [
                    "cx": num(x(index)), "cy": num(y(point.value)), "r": num(radius), "data-label": clean(point.label),
                    "data-value": valueText(point.value),
                ]
                if legend { attributes["data-series"] = line.previous ? "previous" : "current" }
                svg.open("circle", attributes)
                svg.element("title", [:], text: clean(point.label) + ": " + valueText(point.value) + unitSuffix)
                svg.close("circle")
            }
        }
        svg.close("g")

        if isEmpty {
            svg.text(
                Style.emptyMessage,
                [
                    "x": num(left + plotWidth / 2), "y": num((plotTop + plotBottom) / 2 + 4), "text-anchor": "middle", "fill": Style.text,
                    "font-size": "12",
                ])
        }

        if legend {
            drawLegend(
                into: &svg, lines: Array(lines.reversed()), right: w - right, available: w - right - (caption.isEmpty ? 0 : textWidth(caption) + 16))
        }
        return svg.finish()
    }

    /// The legend, right-aligned on the caption row: a line swatch (dashed for the previous period) and the name.
    private static func drawLegend(into svg: inout SVGWriter, lines: [Line], right: Double, available: Double) {
        let swatch = 16.0
        let gap = 5.0
        let spacing = 14.0
        let names = lines.map { clean($0.name) }
        let perItem = max(Style.charWidth, (available - Double(lines.count) * (swatch + gap + spacing)) / Double(max(lines.count, 1)))
        let shown = names.map { truncated($0, toFit: perItem) }
        var x = right - shown.reduce(0) { $0 + swatch + gap + textWidth($1) } - spacing * Double(max(shown.count - 1, 0))
        svg.open("g", ["fill": Style.text])
        for (line, name) in zip(lines, shown) {
            var attributes = [
                "x1": num(x), "y1": "8.5", "x2": num(x + swatch), "y2": "8.5",
                "stroke": line.previous ? Style.previous : Style.accent, "stroke-width": line.previous ? "1.5" : "2",
            ]
            if line.previous { attributes["stroke-dasharray"] = "4 3" }
            svg.element("line", attributes)
            x += swatch + gap
            svg.text(name, ["x": num(x), "y": "12"])
            x += textWidth(name) + spacing
        }
        svg.close("g")
    }

    // MARK: Bars

    private static func barChart(_ bars: [ChartBar], title: String, width: Int) -> String {
        let width = max(width, 200)
        let w = Double(width)
        guard !bars.isEmpty else {
            var svg = SVGWriter(width: width, height: 40, title: title)
            svg.text(Style.noData, ["x": num(w / 2), "y": "24", "text-anchor": "middle", "fill": Style.text, "font-size": "12"])
            return svg.finish()
        }
        let rowHeight = 28.0
        let barHeight = 18.0
        let padding = 4.0
        let height = Int(padding * 2 + rowHeight * Double(bars.count))
        let labelColumn = min(180, (w * 0.3).rounded())
        let texts = bars.map { truncated(clean($0.valueText), toFit: w * 0.35) }
        let valueColumn = (texts.map(textWidth).max() ?? 0) + 10
        let barLeft = labelColumn
        let barSpace = max(0, w - barLeft - valueColumn)
        let values = bars.map { sanitized($0.value) }
        let highest = values.max() ?? 0

        var svg = SVGWriter(width: width, height: height, title: title)
        svg.element(
            "line",
            [
                "x1": num(barLeft), "y1": num(padding), "x2": num(barLeft), "y2": num(Double(height) - padding), "stroke": Style.grid,
                "shape-rendering": "crispEdges",
            ])
        for (index, bar) in bars.enumerated() {
            let rowTop = padding + rowHeight * Double(index)
            let middle = rowTop + rowHeight / 2
            let barWidth = highest > 0 ? barSpace * values[index] / highest : 0
            let label = clean(bar.label)
            svg.open("g", [:])
            svg.element("title", [:], text: label + ": " + clean(bar.valueText))
            svg.text(truncated(label, toFit: labelColumn - 10), ["x": "0", "y": num(middle + 4), "fill": Style.ink])
            svg.element(
                "rect",
                [
                    "x": num(barLeft), "y": num(middle - barHeight / 2), "width": num(barWidth), "height": num(barHeight), "rx": "2",
                    "fill": Style.accent, "data-label": label, "data-value": valueText(values[index]),
                ])
            svg.text(texts[index], ["x": num(barLeft + barWidth + 6), "y": num(middle + 4), "fill": Style.ink])
            svg.close("g")
        }
        return svg.finish()
    }

    // MARK: Numbers and labels

    /// Ticks from 0 up to the first multiple of a 1, 2 or 5 × 10ⁿ step at or above `max`, with at most 4 intervals
    /// (5 ticks) and, for any positive `max`, at least 2 (7 → 0,2,4,6,8; 1247 → 0,500,1000,1500). `integral` keeps the
    /// step at 1 or more (counts never get a 0.5 tick), which may leave only 0 and 1. A `max` of 0 (or less) gives `[0]`.
    static func niceTicks(max value: Double, integral: Bool = false) -> [Double] {
        guard value.isFinite, value > 0 else { return [0] }
        let maxIntervals = 4.0
        var exponent = Int((log10(value / maxIntervals)).rounded(.down)) - 1
        while true {
            for multiple in [1.0, 2.0, 5.0] {
                // step = multiple × 10^exponent, kept exact for negative exponents by dividing by 10^-exponent.
                let step = exponent >= 0 ? multiple * pow(10, Double(exponent)) : multiple / pow(10, Double(-exponent))
                if integral && step < 1 { continue }
                let intervals = (value / step - 1e-9).rounded(.up)
                if intervals <= maxIntervals {
                    return (0...Int(max(intervals, 1))).map { index in
                        exponent >= 0
                            ? Double(index) * multiple * pow(10, Double(exponent)) : Double(index) * multiple / pow(10, Double(-exponent))
                    }
                }
            }
            exponent += 1
        }
    }

    private static let units: [(suffix: String, size: Double)] = [("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)]

    /// A tick label: 999 → "999", 1200 → "1.2k", 15000 → "15k", 3_400_000 → "3.4M", 0.5 → "0.5".
    /// From 1000 on: one decimal below 10 of a unit, none from 10 on, a trailing ".0" dropped, 999_950 → "1M".
    static func compact(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let sign = value < 0 ? "-" : ""
        let magnitude = abs(value)
        guard magnitude >= 1000 else {
            let text = decimal(magnitude, maxDecimals: 4)
            return text == "0" ? "0" : sign + text
        }
        var index = units.lastIndex { magnitude >= $0.size } ?? 0
        while true {
            let scaled = magnitude / units[index].size
            if scaled < 10 {
                // 9.96 rounds to 10.0 and is written "10k".
                return sign + decimal((scaled * 10).rounded() / 10, maxDecimals: 1) + units[index].suffix
            }
            let rounded = scaled.rounded()
            if rounded >= 1000 && index + 1 < units.count {
                index += 1
                continue
            }
            return sign + decimal(rounded, maxDecimals: 0) + units[index].suffix
        }
    }

    /// An exact value as written in `data-value` and tooltips: integers without decimals, others with at most 2.
    static func valueText(_ value: Double) -> String {
        decimal(value, maxDecimals: 2)
    }

    /// A coordinate, rounded to 1 decimal ("12", "12.5").
    static func num(_ value: Double) -> String {
        decimal(value, maxDecimals: 1)
    }

    /// `value` rounded half away from zero to `maxDecimals` decimals, trailing zeros dropped, "." as separator.
    static func decimal(_ value: Double, maxDecimals: Int) -> String {
        guard value.isFinite else { return "0" }
        let scale = pow(10, Double(maxDecimals))
        let scaled = (abs(value) * scale).rounded()
        guard scaled > 0 else { return "0" }
        let sign = value < 0 ? "-" : ""
        guard scaled < 9e15 else { return sign + String(format: "%.0f", abs(value)) }
        let units = Int64(scaled)
        let divisor = Int64(scale)
        var text = String(units / divisor)
        if maxDecimals > 0 {
            var fraction = String(units % divisor)
            fraction = String(repeating: "0", count: maxDecimals - fraction.count) + fraction
            while fraction.last == "0" { fraction.removeLast() }
            if !fraction.isEmpty { text += "." + fraction }
        }
        return sign + text
    }

    /// Negative, NaN and infinite values count as 0.
    static func sanitized(_ value: Double) -> Double {
        value.isFinite && value > 0 ? value : 0
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// An x-axis label: `2026-11-03` → `Nov 3`; any other label as it is.
    static func axisLabel(_ label: String) -> String {
        let bytes = Array(label.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return label }
        func number(_ range: Range<Int>) -> Int? {
            var result = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                result = result * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return result
        }
        guard number(0..<4) != nil, let month = number(5..<7), let day = number(8..<10), (1...12).contains(month), (1...31).contains(day)
        else { return label }
        return months[month - 1] + " " + String(day)
    }

    /// The approximate drawn width of `text` at 11 px.
    static func textWidth(_ text: String) -> Double {
        Double(text.count) * Style.charWidth
    }

    /// `text` cut to fit `width` pixels (at ~6.5 px a character), ending in "…" when cut.
    static func truncated(_ text: String, toFit width: Double) -> String {
        let limit = max(1, Int((width / Style.charWidth).rounded(.down)))
        guard text.count > limit else { return text }
        var kept = String(text.prefix(limit - 1))
        while kept.last?.isWhitespace == true { kept.removeLast() }
        return kept + "…"
    }

    /// `text` without the characters XML 1.0 cannot hold (or that would be invisible noise): control characters are
    /// dropped, tabs and line breaks become spaces.
    static func clean(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D: result.append(" ")
            case 0x00..<0x20, 0x7F...0x9F, 0xFFFE, 0xFFFF: continue
            default: result.append(scalar)
            }
        }
        return String(result)
    }

    /// `text` escaped for XML text and attribute values (`&`, `<`, `>`, `"` and `'`), cleaned first.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in clean(text) {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    // MARK: Markup

    /// Appends elements to the markup of one `<svg>`; every attribute value and text goes through `escape`.
    struct SVGWriter {
        private var markup = ""
        private var openElements: [String] = []

        init(width: Int, height: Int, title: String) {
            markup.reserveCapacity(4096)
            open(
                "svg",
                [
                    "xmlns": "http://www.w3.org/2000/svg", "viewBox": "0 0 \(width) \(height)", "width": "100%",
                    "preserveAspectRatio": "xMidYMid meet", "style": "max-width:\(width)px;height:auto", "role": "img",
                    "aria-label": title, "font-family": Style.fontFamily, "font-size": num(Style.fontSize),
                ],
                order: ["xmlns", "viewBox", "width", "preserveAspectRatio", "style", "role", "aria-label", "font-family", "font-size"])
            element("title", [:], text: title)
        }

        /// Attributes in a fixed order (given first, the rest sorted) so the output is the same on every run.
        mutating func open(_ name: String, _ attributes: [String: String], order: [String] = []) {
            markup += "<" + name + Self.attributes(attributes, order: order) + ">"
            openElements.append(name)
        }

        mutating func close(_ name: String) {
            precondition(openElements.last == name, "closing <\(name)> inside <\(openElements.last ?? "")>")
            openElements.removeLast()
            markup += "</" + name + ">"
        }

        /// A leaf element: self-closing without text.
        mutating func element(_ name: String, _ attributes: [String: String], text: String? = nil) {
            if let text {
                markup += "<" + name + Self.attributes(attributes, order: []) + ">" + SVGChart.escape(text) + "</" + name + ">"
            } else {
                markup += "<" + name + Self.attributes(attributes, order: []) + "/>"
            }
        }

        mutating func text(_ text: String, _ attributes: [String: String]) {
            element("text", attributes, text: text)
        }

        mutating func finish() -> String {
            while let name = openElements.last { close(name) }
            return markup
        }

        private static let preferredOrder = [
            "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "rx", "d", "text-anchor",
        ]

        private static func attributes(_ attributes: [String: String], order: [String]) -> String {
            let ranked = order.isEmpty ? preferredOrder : order
            let keys = attributes.keys.sorted { a, b in
                let ra = ranked.firstIndex(of: a) ?? Int.max
                let rb = ranked.firstIndex(of: b) ?? Int.max
                return ra != rb ? ra < rb : a < b
            }
            return keys.map { " " + $0 + "=\"" + SVGChart.escape(attributes[$0] ?? "") + "\"" }.joined()
        }
    }
}
