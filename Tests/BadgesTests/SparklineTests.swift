import Testing

@testable import Badges

@Suite("Sparkline badge")
struct SparklineTests {
    static let series = [0, 1, 2, 4, 8, 4, 2, 1, 0, 0] + Array(repeating: 3, count: 20)

    @Test(
        "the line fills the message box: one point per day, the busiest day on top, idle days on the bottom",
        arguments: [BadgeStyle.flat, .flatSquare, .plastic])
    func geometry(style: BadgeStyle) throws {
        let badge = BadgeMetric.sparkline.badge(for: BadgeStats(totalRuns: 120, dailyRuns: Self.series), label: nil)
        #expect(badge.message == "120 runs" && badge.label == "usage" && badge.color == "blue")
        let svg = try ParsedSVG.parse(badge.svg(style: style)).get()
        let height = try #require(svg.root.number("height"))
        let width = try #require(svg.root.number("width"))
        let boxes = svg.all("rect").filter { $0.attributes["fill"]?.hasPrefix("url(") == false && $0.number("height") == height }
        let messageBox = try #require(boxes.last)
        let boxStart = messageBox.number("x") ?? 0
        let line = try #require(svg.all("polyline").first)
        let points = try #require(line.attributes["points"]).split(separator: " ").map { pair in
            pair.split(separator: ",").map { Double($0)! }
        }
        #expect(points.count == Self.series.count)
        // Left to right, evenly, inside the message box.
        let xs = points.map { $0[0] }
        #expect(xs == xs.sorted() && xs.first! > boxStart && xs.last! < width)
        let ys = points.map { $0[1] }
        #expect(ys[4] == 4)  // the busiest day touches the top margin
        #expect(ys[0] == height - 4 && ys[8] == height - 4)  // idle days lie on the bottom margin
        #expect(abs(ys[3] - (height - 4 - (height - 8) / 2)) < 0.01)  // half the busiest: half way up
        // The accessible text keeps the figure.
        #expect(svg.all("title").first?.text == "usage: 120 runs")
    }

    @Test func theJSONShowsBlocksAndTheTotalAndNoRunsIsGrey() {
        let json = String(
            decoding: BadgeMetric.sparkline.badge(for: BadgeStats(totalRuns: 120, dailyRuns: Self.series), label: nil).endpointJSON(), as: UTF8.self)
        #expect(json.contains(#""message":"▁▁▂▄█▄▂▁▁▁▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃▃ 120 runs""#))
        let idle = BadgeMetric.sparkline.badge(for: BadgeStats(totalRuns: 0, dailyRuns: Array(repeating: 0, count: 30)), label: nil)
        #expect(idle.color == "lightgrey" && idle.message == "0 runs")
        #expect(Sparkline.blocks([0, 0]) == "▁▁")
    }

    @Test("other styles fall back to the flat shape", arguments: [BadgeStyle.forTheBadge, .social])
    func otherStyles(style: BadgeStyle) throws {
        let badge = BadgeMetric.sparkline.badge(for: BadgeStats(totalRuns: 3, dailyRuns: [1, 2]), label: "30 days")
        #expect(badge.svg(style: style) == badge.svg(style: .flat))
        #expect(try ParsedSVG.parse(badge.svg(style: style)).get().all("polyline").count == 1)
    }
}
