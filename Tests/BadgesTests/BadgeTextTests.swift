import Testing

@testable import Badges

@Suite("BadgeText widths")
struct BadgeTextTests {
    /// Entries copied from pybadges 3.0.1 `default-widths.json` (tenths of a pixel at 11px), independent of the
    /// generated Swift table.
    static let advances: [Character: Double] = [
        "b": 70, "u": 70, "i": 31, "l": 31, "d": 70, "p": 70, "a": 67, "s": 57, "n": 70, "g": 70,
        "L": 61, "T": 69, "y": 65, "J": 38, "e": 68, "t": 43,
    ]
    /// Kerning pairs from the same file (tenths to subtract).
    static let kerning: [String: Double] = ["LT": 1, "Ty": 1, "yJ": 6, "Te": 1]

    static func expectedWidth(_ text: String) -> Double {
        let characters = Array(text)
        var tenths = characters.reduce(0) { $0 + advances[$1]! }
        for (first, second) in zip(characters, characters.dropFirst()) {
            tenths -= kerning[String([first, second])] ?? 0
        }
        return tenths / 10
    }

    @Test("widths follow the pybadges table", arguments: ["build", "passing", "tested", "LTyJ", "Test", "single"])
    func tableWidths(text: String) {
        #expect(abs(BadgeText.width(text) - Self.expectedWidth(text)) < 1e-9)
    }

    @Test("kerning pairs are subtracted")
    func kerningApplied() {
        // 61 + 69 + 65 + 38 = 233 tenths, minus LT 1, Ty 1, yJ 6.
        #expect(abs(BadgeText.width("LTyJ") - 22.5) < 1e-9)
        #expect(BadgeText.width("Te") < BadgeText.width("T") + BadgeText.width("e"))
    }

    @Test("magnitudes match pybadges and shields")
    func knownValues() {
        // pybadges' PrecalculatedTextMeasurer().text_width("passing") == 422 tenths.
        #expect(abs(BadgeText.width("passing") - 42.2) < 1e-9)
        #expect(abs(BadgeText.width("build") - 27.2) < 1e-9)
        // shields' own build|passing badge uses textLength 270 / 410 (Verdana via anafanafo, truncated to px).
        #expect(abs(BadgeText.width("passing") - 41) < 1.5)
        #expect(abs(BadgeText.width("build") - 27) < 1.5)
        #expect(BadgeRenderer.preferredWidth(BadgeText.width("build")) == 27)
        #expect(BadgeRenderer.preferredWidth(BadgeText.width("passing")) == 43)
        #expect(BadgeText.width("") == 0)
    }

    @Test("characters outside the table get a sensible fallback")
    func fallbacks() {
        #expect(abs(BadgeText.width("é") - 6.8) < 1e-9)  // Latin-1, in the table
        #expect(abs(BadgeText.width("Ж") - 11.8) < 1e-9)  // Cyrillic, in the table
        #expect(abs(BadgeText.width("€™") - 18.0) < 1e-9)  // Windows-1252 punctuation block
        #expect(BadgeText.width("中") == 11)  // CJK: one em
        #expect(BadgeText.width("🚀") == 11)  // emoji: one em
        #expect(abs(BadgeText.width("\u{0800}") - 7.747223162885201) < 1e-9)  // unknown: the table's mean advance
        #expect(BadgeText.width("a\u{200D}") == BadgeText.width("a"))  // zero-width joiner adds nothing
    }

    @Test("longer text is wider")
    func monotonic() {
        #expect(BadgeText.width("1.2k times") > BadgeText.width("12 times"))
        #expect(BadgeText.width("mmmm") > BadgeText.width("iiii"))
    }

    @Test("cleaning removes control characters, trims and caps the length")
    func cleaning() {
        #expect(BadgeText.clean("  a\tb\nc\u{0}\u{7}d  ") == "a b cd")
        #expect(BadgeText.clean("\u{FFFE}x\u{FFFF}") == "x")
        let long = BadgeText.clean(String(repeating: "x", count: 1_000))
        #expect(long.count == BadgeText.maximumLength)
        #expect(long.hasSuffix("…"))
    }

    @Test("XML escaping covers the five special characters, scalar by scalar")
    func escaping() {
        #expect(BadgeText.escapeXML(#"<a href="x">Tom & 'Jerry'</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;")
        #expect(BadgeText.escapeXML("&\u{301}") == "&amp;\u{301}")
    }
}
