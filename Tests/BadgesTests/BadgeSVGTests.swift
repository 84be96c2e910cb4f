import Testing

@testable import Badges

@Suite("SVG rendering")
struct BadgeSVGTests {
    static let heights: [BadgeStyle: Double] = [.flat: 20, .flatSquare: 20, .plastic: 18, .forTheBadge: 28, .social: 20]

    static func parsed(_ badge: Badge, _ style: BadgeStyle) throws -> ParsedSVG {
        try ParsedSVG.parse(badge.svg(style: style)).get()
    }

    /// The two coloured boxes (label, message) of every style but social.
    static func boxes(_ svg: ParsedSVG) -> [ParsedSVG.Element] {
        svg.all("rect").filter { $0.ancestors.last == "g" && !($0.attributes["fill"] ?? "").hasPrefix("url(") }
    }

    /// Text drawn for the reader (not the aria-hidden shadows).
    static func visibleTexts(_ svg: ParsedSVG) -> [String] {
        svg.all("text").filter { $0.attributes["aria-hidden"] == nil }.map(\.text)
    }

    @Test("every style is well-formed, has the right height and width = label box + message box", arguments: BadgeStyle.allCases)
    func geometry(style: BadgeStyle) throws {
        let badge = Badge(label: "tested", message: "1.2k times", color: "brightgreen")
        let svg = try Self.parsed(badge, style)
        #expect(svg.root.name == "svg")
        #expect(svg.root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(svg.root.number("height") == Self.heights[style])
        let width = try #require(svg.root.number("width"))
        if style == .social {
            let rects = svg.all("rect")
            let labelBox = try #require(rects.first { $0.attributes["stroke"] == "none" })
            let bubble = try #require(rects.first { $0.attributes["fill"] == "#fafafa" && $0.number("height") == 19 })
            let labelWidth = try #require(labelBox.number("width"))
            // label box (+1 for its stroke), a 6px gutter for the notch, then the bubble.
            #expect(width == labelWidth + 1 + 6 + (bubble.number("width") ?? -1))
            #expect(bubble.number("x") == labelWidth + 6.5)
        } else {
            let boxes = Self.boxes(svg)
            #expect(boxes.count == 2)
            #expect(width == (boxes[0].number("width") ?? -1) + (boxes[1].number("width") ?? -1))
            #expect(boxes[1].number("x") == boxes[0].number("width"))
            #expect(boxes[0].attributes["fill"] == "#555")
            #expect(boxes[1].attributes["fill"] == "#4c1")
        }
        let (label, message) =
            switch style {
            case .forTheBadge: ("TESTED", "1.2K TIMES")
            case .social: ("Tested", "1.2k times")  // shields capitalises social labels
            default: ("tested", "1.2k times")
            }
        #expect(Self.visibleTexts(svg) == [label, message])
        #expect(svg.all("title").map(\.text) == ["tested: 1.2k times"])
        #expect(svg.root.attributes["aria-label"] == "tested: 1.2k times")
        #expect(svg.root.attributes["role"] == "img")
    }

    @Test("text fits its box: textLength plus padding equals the box width", arguments: [BadgeStyle.flat, .plastic, .flatSquare])
    func textFitsBox(style: BadgeStyle) throws {
        let svg = try Self.parsed(Badge(label: "rating", message: "4.7/5 from 1.2k developers", color: "green"), style)
        let boxes = Self.boxes(svg)
        let texts = svg.all("text").filter { $0.attributes["aria-hidden"] == nil }
        #expect(texts.count == 2)
        for (box, text) in zip(boxes, texts) {
            let boxWidth = try #require(box.number("width"))
            let textLength = try #require(text.number("textLength")) / 10
            let centre = try #require(text.number("x")) / 10
            #expect(boxWidth == textLength + 10)
            #expect(textLength >= BadgeText.width(text.text).rounded(.down))
            // Centred within ±1px (shields nudges the label right and the message left by one pixel).
            let boxStart = box.number("x") ?? 0
            #expect(abs(centre - (boxStart + boxWidth / 2)) <= 1)
        }
    }

    @Test("flat matches shields' layout for build | passing")
    func flatMatchesShields() throws {
        let svg = try Self.parsed(Badge(label: "build", message: "passing", color: "brightgreen"), .flat)
        let texts = svg.all("text")
        // shields: <text aria-hidden="true" x="195" y="150" fill="#010101" fill-opacity=".3" … textLength="270">build</text>
        #expect(texts.map(\.text) == ["build", "build", "passing", "passing"])
        #expect(
            texts[0].attributes == [
                "aria-hidden": "true", "x": "195", "y": "150", "fill": "#010101", "fill-opacity": ".3", "transform": "scale(.1)", "textLength": "270",
            ])
        #expect(texts[1].attributes == ["x": "195", "y": "140", "transform": "scale(.1)", "fill": "#fff", "textLength": "270"])
        // Our table measures "passing" at 42.2px (DejaVu Sans) → 43px box text, so the message sits 1px further right.
        #expect(texts[3].attributes["textLength"] == "430")
        #expect(texts[3].attributes["x"] == "625")
        #expect(svg.root.attributes["width"] == "90")
        let stops = svg.all("stop")
        #expect(stops.map { $0.attributes["stop-opacity"] } == [".1", ".1"])
        #expect(svg.all("rect").first?.attributes["rx"] == "3")
    }

    @Test("style details: plastic gradient, flat-square without gradient or shadow, for-the-badge bold message")
    func styleDetails() throws {
        let badge = Badge(label: "success", message: "96.3%", color: "brightgreen")
        let plastic = try Self.parsed(badge, .plastic)
        #expect(plastic.all("stop").count == 4)
        #expect(plastic.all("stop").first?.attributes["stop-opacity"] == ".7")
        #expect(plastic.all("rect").first?.attributes["rx"] == "4")
        #expect(plastic.all("text").first?.attributes["y"] == "140")

        let square = try Self.parsed(badge, .flatSquare)
        #expect(square.all("linearGradient").isEmpty)
        #expect(square.all("clipPath").isEmpty)
        #expect(square.all("text").allSatisfy { $0.attributes["aria-hidden"] == nil })

        let big = try Self.parsed(badge, .forTheBadge)
        let texts = big.all("text")
        #expect(texts.map(\.text) == ["SUCCESS", "96.3%"])
        #expect(texts[1].attributes["font-weight"] == "bold")
        #expect(texts[0].attributes["font-weight"] == nil)
        // Letter spacing: 1.25px per character on top of the measured width.
        let labelLength = try #require(texts[0].number("textLength")) / 10
        #expect(labelLength == Double(BadgeRenderer.preferredWidth(BadgeText.width("SUCCESS") * 10 / 11)) + 1.25 * 7)

        let social = try Self.parsed(badge, .social)
        #expect(social.all("path").count == 1)
        #expect(social.all("g").contains { $0.attributes["font-weight"] == "700" })
    }

    @Test("label and message are escaped everywhere", arguments: BadgeStyle.allCases)
    func escaping(style: BadgeStyle) throws {
        let badge = Badge(label: #"<script>&"'"#, message: "a</text><b>&amp;", color: "blue")
        let raw = badge.svg(style: style)
        #expect(!raw.contains("<script"))
        #expect(!raw.lowercased().contains("<script"))
        #expect(!raw.contains("</text><b>"))
        #expect(raw.contains("&lt;") && raw.contains("&amp;amp;"))
        let svg = try ParsedSVG.parse(raw).get()
        let label = style == .forTheBadge ? #"<SCRIPT>&"'"# : #"<script>&"'"#
        let message = style == .forTheBadge ? "A</TEXT><B>&AMP;" : "a</text><b>&amp;"
        #expect(Self.visibleTexts(svg) == [label, message])
        #expect(svg.all("title").first?.text == #"<script>&"': a</text><b>&amp;"#)
        #expect(svg.root.attributes["aria-label"] == #"<script>&"': a</text><b>&amp;"#)
    }

    @Test("colours: named, hex, invalid, custom label colour and readable text")
    func colours() throws {
        func fills(_ color: String, labelColor: String? = nil) throws -> [String?] {
            Self.boxes(try Self.parsed(Badge(label: "l", message: "m", color: color, labelColor: labelColor), .flatSquare))
                .map { $0.attributes["fill"] }
        }
        #expect(try fills("brightgreen") == ["#555", "#4c1"])
        #expect(try fills("Yellow") == ["#555", "#dfb317"])
        #expect(try fills("critical") == ["#555", "#e05d44"])
        #expect(try fills("informational") == ["#555", "#007ec6"])
        #expect(try fills("gray") == ["#555", "#555"])
        #expect(try fills("ABC") == ["#555", "#abc"])
        #expect(try fills("#a1B2c3") == ["#555", "#a1b2c3"])
        #expect(try fills(#"red"/><script>alert(1)</script>"#) == ["#555", "#9f9f9f"])
        #expect(try fills("abcd") == ["#555", "#9f9f9f"])
        #expect(try fills("blue", labelColor: "orange") == ["#fe7d37", "#007ec6"])
        #expect(try fills("blue", labelColor: "nope") == ["#555", "#007ec6"])

        // White text on dark backgrounds, #333 on light ones (shields' brightness threshold 0.69).
        let light = try Self.parsed(Badge(label: "l", message: "m", color: "fff", labelColor: "#eee"), .flat)
        #expect(light.all("text").filter { $0.attributes["aria-hidden"] == nil }.map { $0.attributes["fill"] } == ["#333", "#333"])
        #expect(light.all("text").filter { $0.attributes["aria-hidden"] != nil }.map { $0.attributes["fill"] } == ["#ccc", "#ccc"])
        let dark = try Self.parsed(Badge(label: "l", message: "m", color: "yellow"), .flat)
        #expect(dark.all("text").filter { $0.attributes["aria-hidden"] == nil }.map { $0.attributes["fill"] } == ["#fff", "#fff"])
    }

    @Test("an empty label gives a message-only badge", arguments: BadgeStyle.allCases)
    func messageOnly(style: BadgeStyle) throws {
        let svg = try Self.parsed(Badge(label: "", message: "4.7/5", color: "green"), style)
        #expect(svg.all("title").first?.text == "4.7/5")
        #expect(Self.visibleTexts(svg) == ["4.7/5"])
        if style != .social {
            let boxes = Self.boxes(svg)
            #expect(boxes.first?.number("width") == 0)
            #expect(svg.root.number("width") == boxes.last?.number("width"))
        }
    }

    @Test("a longer message gives a wider badge", arguments: BadgeStyle.allCases)
    func widerForLongerMessage(style: BadgeStyle) throws {
        let short = try Self.parsed(Badge(label: "tested", message: "9 times", color: "green"), style)
        let long = try Self.parsed(Badge(label: "tested", message: "12.3k times this month", color: "green"), style)
        #expect((long.root.number("width") ?? 0) > (short.root.number("width") ?? 0) + 50)
    }

    @Test(
        "odd text still yields well-formed SVG",
        arguments: ["", " ", "\u{0}\u{1}bell\u{7}", "中文 🚀 é", "&\u{301}", String(repeating: "W", count: 5_000)]
    )
    func oddText(text: String) throws {
        for style in BadgeStyle.allCases {
            let raw = Badge(label: text, message: text, color: "blue").svg(style: style)
            #expect(throws: Never.self) { try ParsedSVG.parse(raw).get() }
            #expect(raw.utf8.count < 40_000)
        }
    }

    @Test("notFound and invalid badges")
    func specialBadges() throws {
        let notFound = Badge.notFound(label: nil)
        #expect(notFound == Badge(label: "badge", message: "not found", color: "lightgrey"))
        #expect(Badge.notFound(label: "tested").label == "tested")
        let svg = try Self.parsed(notFound, .flat)
        #expect(Self.boxes(svg).last?.attributes["fill"] == "#9f9f9f")
        let invalid = Badge.invalid("invalid metric")
        #expect(invalid.label == "badge" && invalid.message == "invalid metric")
        #expect(Self.boxes(try Self.parsed(invalid, .flat)).last?.attributes["fill"] == "#e05d44")
    }

    @Test("numbers are written with at most two decimals")
    func numbers() {
        #expect(BadgeRenderer.number(88) == "88")
        #expect(BadgeRenderer.number(51.25) == "51.25")
        #expect(BadgeRenderer.number(0.5) == "0.5")
        #expect(BadgeRenderer.number(2.05) == "2.05")
        #expect(BadgeRenderer.number(1.999) == "2")
    }
}
