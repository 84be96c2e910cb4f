import Foundation
import Testing

@testable import AnalyticsPages

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A chart parsed with Foundation's XMLParser: its elements in document order.
private struct ParsedChart {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text: String
        /// Names of the enclosing elements, outermost first.
        var ancestors: [String]

        func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }
    }

    var elements: [Element]
    var root: Element { elements[0] }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    /// Elements carrying a data point.
    var points: [Element] { elements.filter { $0.attributes["data-value"] != nil } }
    /// Visible text (not tooltips).
    var texts: [String] { all("text").map(\.text) }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func parse(_ svg: String) throws -> ParsedChart {
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw Failure(description: "not well-formed: \(parser.parserError.map { "\($0)" } ?? "unknown error") in \(svg)")
        }
        return ParsedChart(elements: collector.elements)
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        private var open: [Int] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            elements.append(Element(name: elementName, attributes: attributeDict, text: "", ancestors: open.map { elements[$0].name }))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            open.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let current = open.last { elements[current].text += string }
        }
    }
}

private func days(_ values: [Double], month: Int = 11) -> [ChartPoint] {
    values.enumerated().map { index, value in
        ChartPoint(label: String(format: "2026-%02d-%02d", month, index + 1), value: value)
    }
}

@Suite("SVG charts")
struct SVGChartTests {
    static let hostile = "<script>alert(\"x&y\")</script> 'team'"

    /// One sample of every chart kind, including the empty ones.
    static let everyKind: [(String, String)] = [
        ("daily", SVGChart.daily(days([3, 0, 12.5, 1247, 7]), title: "Daily runs", unit: "runs")),
        ("daily, empty", SVGChart.daily([], title: "Daily runs", unit: "runs")),
        ("daily, all zero", SVGChart.daily(days([0, 0, 0]), title: "Daily runs", unit: "runs")),
        ("daily, one point", SVGChart.daily(days([4]), title: "Daily runs", unit: "runs")),
        ("bars", SVGChart.bars([ChartBar(label: "core", value: 10, valueText: "$10.00")], title: "Cost by team")),
        ("bars, empty", SVGChart.bars([], title: "Cost by team")),
        (
            "comparison",
            SVGChart.comparison(
                current: days([5, 6, 7]), previous: days([1, 2, 3], month: 10), currentName: "This week", previousName: "Last week",
                title: "Runs", unit: "runs")
        ),
        ("comparison, empty", SVGChart.comparison(current: [], previous: [], currentName: "a", previousName: "b", title: "Runs", unit: "runs")),
    ]

    // MARK: Markup

    @Test("every chart kind parses as XML and is an accessible, responsive svg", arguments: 0..<everyKind.count)
    func wellFormed(index: Int) throws {
        let (kind, svg) = Self.everyKind[index]
        let chart = try ParsedChart.parse(svg)
        let root = chart.root
        #expect(root.name == "svg", "\(kind)")
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(root.attributes["role"] == "img")
        #expect(root.attributes["width"] == "100%")
        #expect(root.attributes["preserveAspectRatio"] == "xMidYMid meet")
        let viewBox = try #require(root.attributes["viewBox"]).split(separator: " ").compactMap { Int($0) }
        #expect(viewBox.count == 4 && viewBox[0] == 0 && viewBox[1] == 0)
        #expect(root.attributes["style"] == "max-width:\(viewBox[2])px;height:auto")
        #expect(root.attributes["aria-label"] != nil)
        #expect(chart.elements[1].name == "title" && chart.elements[1].text == root.attributes["aria-label"])
        #expect(root.attributes["font-family"] == "system-ui, sans-serif")
        #expect(root.attributes["font-size"] == "11")
    }

    @Test("a hostile title and labels are escaped everywhere and read back unchanged")
    func escaping() throws {
        let h = Self.hostile
        let charts = [
            SVGChart.daily([ChartPoint(label: h, value: 1), ChartPoint(label: h, value: 2)], title: h, unit: h),
            SVGChart.bars([ChartBar(label: h, value: 1, valueText: h)], title: h),
            SVGChart.comparison(
                current: [ChartPoint(label: h, value: 1)], previous: [ChartPoint(label: h, value: 2)], currentName: h, previousName: h,
                title: h, unit: h),
        ]
        for svg in charts {
            #expect(!svg.contains("<script"))
            #expect(!svg.contains("</script"))
            #expect(svg.contains("&lt;script&gt;"))
            #expect(!svg.contains("'team'") && !svg.contains("\"x&"))
            let chart = try ParsedChart.parse(svg)
            #expect(chart.root.attributes["aria-label"] == h)
            #expect(chart.all("title").first?.text == h)
            #expect(!chart.points.isEmpty)
            for point in chart.points {
                #expect(point.attributes["data-label"] == h)
            }
        }
    }

    @Test("characters XML cannot hold are dropped, line breaks become spaces")
    func controlCharacters() throws {
        let label = "bad\u{0}\u{1B}label\nnext"
        let svg = SVGChart.daily([ChartPoint(label: label, value: 1)], title: "t\u{7}itle", unit: "runs")
        let chart = try ParsedChart.parse(svg)
        #expect(chart.root.attributes["aria-label"] == "title")
        #expect(chart.points.map { $0.attributes["data-label"] } == ["badlabel next"])
    }

    @Test("coordinates carry at most one decimal")
    func compactCoordinates() throws {
        let svg = SVGChart.comparison(
            current: days([1.234, 7.777, 3.3333, 9.99]), previous: days([2.2222, 1.1111, 0.001, 5.55555], month: 10), currentName: "now",
            previousName: "before", title: "Runs", unit: "runs", width: 617, height: 193)
        let chart = try ParsedChart.parse(svg)
        let geometry = ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height"]
        var checked = 0
        for element in chart.elements.dropFirst() {
            var numbers = geometry.compactMap { element.attributes[$0] }
            if let d = element.attributes["d"] {
                numbers += d.split(whereSeparator: { "MLZ,".contains($0) }).map(String.init)
            }
            for number in numbers {
                #expect(Double(number) != nil, "\(number)")
                #expect((number.split(separator: ".").dropFirst().first?.count ?? 0) <= 1, "\(number)")
                checked += 1
            }
        }
        #expect(checked > 50)
    }

    @Test("the same input gives the same markup")
    func deterministic() {
        let make = {
            SVGChart.comparison(
                current: days([1, 5, 3]), previous: days([2, 2, 9], month: 10), currentName: "a", previousName: "b", title: "T", unit: "u")
        }
        #expect(make() == make())
        #expect(!make().contains("id="))
    }

    // MARK: Daily

    @Test("one hit target per point with its exact value, label and tooltip")
    func dataValues() throws {
        let values: [Double] = [0, 3, 12.5, 1247, 0.125, 2.3456, 1_000_000]
        let chart = try ParsedChart.parse(SVGChart.daily(days(values), title: "Runs", unit: "runs"))
        let points = chart.points
        #expect(points.count == values.count)
        #expect(points.map { $0.attributes["data-value"] } == ["0", "3", "12.5", "1247", "0.13", "2.35", "1000000"])
        #expect(points.map { $0.attributes["data-label"] } == days(values).map(\.label))
        #expect(points.allSatisfy { $0.name == "circle" })
        // Invisible but hoverable: the group around the targets.
        let group = try #require(chart.elements.last { $0.name == "g" && $0.attributes["pointer-events"] == "all" })
        #expect(group.number("fill-opacity") == 0)
        #expect(points.allSatisfy { $0.ancestors.last == "g" && $0.attributes["fill"] == nil })
        let tooltips = chart.all("title").filter { $0.ancestors.last == "circle" }.map(\.text)
        #expect(tooltips.count == values.count)
        #expect(tooltips[1] == "2026-11-02: 3 runs")
        #expect(tooltips[2] == "2026-11-03: 12.5 runs")
        // Hit targets sit on the line: x grows left to right, a higher value is higher up (smaller y).
        let xs = points.compactMap { $0.number("cx") }
        #expect(xs == xs.sorted() && Set(xs).count == xs.count)
        let cy = points.compactMap { $0.number("cy") }
        #expect(cy[6] < cy[3] && cy[3] < cy[0])
        #expect(cy[3] <= cy[2] && cy[2] <= cy[1] && cy[1] <= cy[0])
    }

    @Test("negative, NaN and infinite values count as 0")
    func badValues() throws {
        let chart = try ParsedChart.parse(
            SVGChart.daily(days([-5, .nan, 4, .infinity, -.infinity]), title: "Runs", unit: "runs"))
        #expect(chart.points.map { $0.attributes["data-value"] } == ["0", "0", "4", "0", "0"])
        let cy = chart.points.compactMap { $0.number("cy") }
        #expect(cy[0] == cy[1] && cy[0] == cy[3] && cy[2] < cy[0])
        #expect(chart.texts.contains("4"))  // the top tick is 4, not NaN or infinity
    }

    @Test("y ticks: nice values from 0, compact labels, gridlines")
    func yAxis() throws {
        let chart = try ParsedChart.parse(SVGChart.daily(days([100, 1247, 800]), title: "Runs", unit: "runs"))
        let endAnchored = chart.all("text").filter { $0.ancestors.last == "g" }.map(\.text)
        for label in ["0", "500", "1k", "1.5k"] {
            #expect(endAnchored.contains(label))
        }
        // 4 gridlines (one per tick) plus the y axis.
        #expect(chart.all("line").count == 5)
    }

    @Test("x labels: first, middle and last day, dates written as 'Nov 3'")
    func xLabels() throws {
        let chart = try ParsedChart.parse(SVGChart.daily(days(Array(repeating: 3, count: 30)), title: "Runs", unit: "runs"))
        let labels = chart.all("text").filter { $0.text.hasPrefix("Nov") }
        #expect(labels.map(\.text) == ["Nov 1", "Nov 15", "Nov 30"])
        #expect(labels.map { $0.attributes["text-anchor"] } == ["start", "middle", "end"])
        // Each label under its point: the 1st, the 15th and the 30th.
        let xs = chart.points.compactMap { $0.number("cx") }
        #expect(labels.compactMap { $0.number("x") } == [xs[0], xs[14], xs[29]])
        let two = try ParsedChart.parse(SVGChart.daily(days([1, 2]), title: "Runs", unit: "runs"))
        #expect(two.texts.filter { $0.hasPrefix("Nov") } == ["Nov 1", "Nov 2"])
    }

    @Test("axis labels: yyyy-MM-dd becomes a short date, anything else stays")
    func axisLabel() {
        #expect(SVGChart.axisLabel("2026-11-03") == "Nov 3")
        #expect(SVGChart.axisLabel("2026-01-31") == "Jan 31")
        #expect(SVGChart.axisLabel("2026-13-03") == "2026-13-03")
        #expect(SVGChart.axisLabel("2026-11-3x") == "2026-11-3x")
        #expect(SVGChart.axisLabel("week 45") == "week 45")
    }

    @Test("an empty or all-zero series draws the axes and 'No runs in this period'")
    func emptyMessage() throws {
        for points in [[], days([0, 0, 0]), days([-1, .nan])] {
            let chart = try ParsedChart.parse(SVGChart.daily(points, title: "Runs", unit: "runs"))
            #expect(chart.texts.contains("No runs in this period"))
            #expect(chart.texts.contains("0"))
            #expect(chart.all("line").count == 2)  // the x axis (tick 0) and the y axis
            #expect(chart.all("path").isEmpty)
            #expect(chart.points.count == points.count)
        }
        let drawn = SVGChart.daily(days([0, 1]), title: "Runs", unit: "runs")
        #expect(!drawn.contains("No runs in this period"))
    }

    @Test("a single point draws a dot and no line")
    func singlePoint() throws {
        let chart = try ParsedChart.parse(SVGChart.daily(days([42]), title: "Runs", unit: "runs"))
        #expect(chart.all("path").isEmpty)
        let dots = chart.all("circle").filter { $0.attributes["fill"] == "#0969da" }
        #expect(dots.count == 1)
        #expect(chart.points.map { $0.attributes["data-value"] } == ["42"])
        #expect(dots.first?.number("cx") == chart.points.first?.number("cx"))
        #expect(chart.texts.contains("Nov 1"))
    }

    @Test("line, soft area and a dot on the last point in the accent colour")
    func lineStyle() throws {
        let chart = try ParsedChart.parse(SVGChart.daily(days([1, 4, 2]), title: "Runs", unit: "runs"))
        let paths = chart.all("path")
        #expect(paths.count == 2)
        #expect(paths.contains { $0.attributes["fill"] == "#0969da" && $0.attributes["fill-opacity"] == "0.12" })
        #expect(paths.contains { $0.attributes["stroke"] == "#0969da" && $0.attributes["fill"] == "none" })
        let dots = chart.all("circle").filter { $0.attributes["fill"] == "#0969da" }
        #expect(dots.count == 1)
        let dot = try #require(dots.first)
        #expect(dot.number("cx") == chart.points.last?.number("cx"))
        #expect(dot.number("cy") == chart.points.last?.number("cy"))
    }

    // MARK: Ticks and numbers

    @Test(
        "nice ticks",
        arguments: [
            (0.0, [0.0]), (-3, [0]), (.nan, [0]), (7, [0, 2, 4, 6, 8]), (1247, [0, 500, 1000, 1500]), (1, [0, 0.5, 1]), (10, [0, 5, 10]),
            (100, [0, 50, 100]), (3, [0, 1, 2, 3]), (42, [0, 20, 40, 60]), (0.35, [0, 0.1, 0.2, 0.3, 0.4]), (0.3, [0, 0.1, 0.2, 0.3]),
            (3_400_000, [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000]),
        ])
    func niceTicks(max: Double, expected: [Double]) {
        #expect(SVGChart.niceTicks(max: max) == expected)
    }

    @Test("nice ticks: 3 to 5 ticks from 0, a 1/2/5×10ⁿ step, the top at or above the maximum")
    func niceTickShape() {
        var value = 0.0013
        while value < 1e12 {
            let ticks = SVGChart.niceTicks(max: value)
            #expect((3...5).contains(ticks.count), "\(value): \(ticks)")
            #expect(ticks.first == 0)
            #expect(ticks.last! >= value)
            let step = ticks[1]
            let mantissa = step / pow(10, log10(step).rounded(.down))
            #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }, "\(value): step \(step)")
            for (index, tick) in ticks.enumerated() {
                #expect(abs(tick - Double(index) * step) <= step * 1e-9)
            }
            value *= 1.37
        }
    }

    @Test("nice ticks for counts never step below 1")
    func integralTicks() {
        #expect(SVGChart.niceTicks(max: 1, integral: true) == [0, 1])
        #expect(SVGChart.niceTicks(max: 2, integral: true) == [0, 1, 2])
        #expect(SVGChart.niceTicks(max: 7, integral: true) == [0, 2, 4, 6, 8])
        let chart = try? ParsedChart.parse(SVGChart.daily(days([0, 1, 0]), title: "Runs", unit: "runs"))
        #expect(chart?.texts.contains("0.5") == false)
    }

    @Test(
        "compact tick labels",
        arguments: [
            (0.0, "0"), (999, "999"), (1000, "1k"), (1200, "1.2k"), (1500, "1.5k"), (15000, "15k"), (999_950, "1M"), (3_400_000, "3.4M"),
            (2_000_000_000, "2B"), (0.5, "0.5"), (0.005, "0.005"), (0.30000000000000004, "0.3"), (-1200, "-1.2k"),
        ])
    func compact(value: Double, expected: String) {
        #expect(SVGChart.compact(value) == expected)
    }

    @Test("exact values: integers without decimals, others with at most 2")
    func valueText() {
        #expect(SVGChart.valueText(1247) == "1247")
        #expect(SVGChart.valueText(12.5) == "12.5")
        #expect(SVGChart.valueText(3.14159) == "3.14")
        #expect(SVGChart.valueText(0.004) == "0")
        #expect(SVGChart.valueText(1e20) == "100000000000000000000")
        #expect(SVGChart.num(-0.04) == "0")
        #expect(SVGChart.num(12.25) == "12.3")
    }

    // MARK: Bars

    static let teams = [
        ChartBar(label: "Platform", value: 1247.5, valueText: "$1,247.50"),
        ChartBar(label: "Search", value: 980, valueText: "$980.00"),
        ChartBar(label: "Growth", value: 96.4, valueText: "$96.40"),
        ChartBar(label: "Idle", value: 0, valueText: "$0.00"),
    ]

    @Test("bars are scaled to the largest value and carry their exact values")
    func barsScaled() throws {
        let chart = try ParsedChart.parse(SVGChart.bars(Self.teams, title: "Cost by team"))
        let rects = chart.all("rect")
        #expect(rects.count == Self.teams.count)
        #expect(rects.map { $0.attributes["data-label"] } == Self.teams.map(\.label))
        #expect(rects.map { $0.attributes["data-value"] } == ["1247.5", "980", "96.4", "0"])
        let widths = try rects.map { try #require($0.number("width")) }
        let longest = try #require(widths.indices.max { widths[$0] < widths[$1] })
        #expect(rects[longest].attributes["data-label"] == "Platform")
        for (width, bar) in zip(widths, Self.teams) {
            #expect(abs(width - widths[longest] * bar.value / 1247.5) <= 0.5, "\(bar.label)")
        }
        #expect(widths[3] == 0)
        // Every bar starts at the same x, every value text right of its bar, every bar inside the chart.
        let viewWidth = 640.0
        #expect(Set(rects.compactMap { $0.number("x") }).count == 1)
        for (rect, bar) in zip(rects, Self.teams) {
            let text = try #require(chart.all("text").first { $0.text == bar.valueText })
            let textX = try #require(text.number("x"))
            let barEnd = try #require(rect.number("x")) + (rect.number("width") ?? 0)
            #expect(textX > barEnd)
            #expect(textX + SVGChart.textWidth(bar.valueText) <= viewWidth)
        }
        #expect(rects.allSatisfy { $0.attributes["fill"] == "#0969da" })
    }

    @Test("bar rows are about 28 px each")
    func barsHeight() throws {
        func height(_ rows: Int) throws -> Double {
            let bars = (0..<rows).map { ChartBar(label: "team \($0)", value: Double($0 + 1), valueText: "\($0 + 1)") }
            let viewBox = try #require(try ParsedChart.parse(SVGChart.bars(bars, title: "T")).root.attributes["viewBox"])
            return try #require(Double(viewBox.split(separator: " ")[3]))
        }
        #expect(try height(2) - height(1) == 28)
        #expect(try height(10) - height(1) == 9 * 28)
        #expect(try (28...40).contains(height(1)))
    }

    @Test("long bar labels are cut with … to fit the label column; the full label stays in data-label and the tooltip")
    func barsTruncation() throws {
        let long = "A very long team name that certainly does not fit in the label column at all"
        let chart = try ParsedChart.parse(
            SVGChart.bars([ChartBar(label: long, value: 5, valueText: "5"), ChartBar(label: "short", value: 2, valueText: "2")], title: "T"))
        let rect = try #require(chart.all("rect").first)
        let shown = try #require(chart.all("text").first { $0.text.hasPrefix("A very") })
        #expect(shown.text.hasSuffix("…"))
        #expect(shown.text.count < long.count)
        #expect(long.hasPrefix(String(shown.text.dropLast()).trimmingCharacters(in: .whitespaces)))
        let column = try #require(rect.number("x"))
        #expect(SVGChart.textWidth(shown.text) <= column)
        #expect(rect.attributes["data-label"] == long)
        #expect(chart.all("title").contains { $0.text == long + ": 5" })
        #expect(chart.texts.contains("short"))
    }

    @Test("truncation keeps text that fits and cuts the rest to the width")
    func truncation() {
        #expect(SVGChart.truncated("short", toFit: 100) == "short")
        #expect(SVGChart.truncated("abcdefghij", toFit: 6.5 * 5) == "abcd…")
        #expect(SVGChart.truncated("abc def", toFit: 6.5 * 5) == "abc…")
        #expect(SVGChart.truncated("abc", toFit: 1) == "…")
    }

    @Test("no bars: a short 'No data' chart")
    func barsEmpty() throws {
        let chart = try ParsedChart.parse(SVGChart.bars([], title: "Cost"))
        #expect(chart.texts == ["No data"])
        #expect(chart.all("rect").isEmpty)
        #expect(chart.root.attributes["viewBox"] == "0 0 640 40")
    }

    // MARK: Comparison

    @Test("comparison: both series with their values, previous dashed and muted, a legend with both names")
    func comparison() throws {
        let chart = try ParsedChart.parse(
            SVGChart.comparison(
                current: days([5, 6, 7]), previous: days([1, 2, 3.5], month: 10), currentName: "This week", previousName: "Last week",
                title: "Runs", unit: "runs"))
        let current = chart.points.filter { $0.attributes["data-series"] == "current" }
        let previous = chart.points.filter { $0.attributes["data-series"] == "previous" }
        #expect(current.map { $0.attributes["data-value"] } == ["5", "6", "7"])
        #expect(previous.map { $0.attributes["data-value"] } == ["1", "2", "3.5"])
        #expect(previous.map { $0.attributes["data-label"] } == ["2026-10-01", "2026-10-02", "2026-10-03"])
        #expect(current.compactMap { $0.number("cx") } == previous.compactMap { $0.number("cx") })
        #expect(chart.all("title").contains { $0.text == "2026-10-03: 3.5 runs" })

        let dashed = chart.all("path").filter { $0.attributes["stroke-dasharray"] != nil }
        #expect(dashed.count == 1)
        #expect(dashed.first?.attributes["stroke"] == "#8c959f")
        #expect(chart.all("path").contains { $0.attributes["stroke"] == "#0969da" && $0.attributes["stroke-dasharray"] == nil })

        #expect(chart.texts.contains("This week"))
        #expect(chart.texts.contains("Last week"))
        let swatches = chart.all("line").filter { $0.attributes["stroke"] == "#0969da" || $0.attributes["stroke"] == "#8c959f" }
        #expect(swatches.count == 2)
        // The x labels are the current period's days.
        #expect(chart.texts.contains("Nov 1") && !chart.texts.contains("Oct 1"))
    }

    @Test("comparison with nothing in either period shows the empty message")
    func comparisonEmpty() throws {
        let chart = try ParsedChart.parse(
            SVGChart.comparison(
                current: days([0, 0]), previous: days([0, 0], month: 10), currentName: "a", previousName: "b", title: "Runs", unit: "runs"))
        #expect(chart.texts.contains("No runs in this period"))
        let busyPrevious = try ParsedChart.parse(
            SVGChart.comparison(
                current: days([0, 0]), previous: days([3, 4], month: 10), currentName: "a", previousName: "b", title: "Runs", unit: "runs"))
        #expect(!busyPrevious.texts.contains("No runs in this period"))
    }
}
