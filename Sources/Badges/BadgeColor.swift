/// A colour a badge can be painted with: shields.io's named colours and hex colours.
struct BadgeColor: Equatable, Sendable {
    /// The value written into the SVG `fill` (e.g. `#4c1`, `#a1b2c3`): always `#` + 3 or 6 lowercase hex digits.
    var fill: String
    /// The value written into endpoint JSON: the (lowercased) name when a named colour was given, else `fill`.
    var name: String
    var red: Int
    var green: Int
    var blue: Int

    /// shields.io's colour names and aliases (badge-maker `color.js`).
    static let named: [String: String] = [
        "brightgreen": "#4c1", "green": "#97ca00", "yellowgreen": "#a4a61d", "yellow": "#dfb317",
        "orange": "#fe7d37", "red": "#e05d44", "blue": "#007ec6",
        "grey": "#555", "gray": "#555", "lightgrey": "#9f9f9f", "lightgray": "#9f9f9f",
        "success": "#4c1", "important": "#fe7d37", "critical": "#e05d44", "informational": "#007ec6", "inactive": "#9f9f9f",
    ]

    static let lightgrey = BadgeColor("lightgrey")!
    static let defaultLabel = BadgeColor("grey")!

    /// Parses a named colour (case-insensitive) or a hex colour `abc`, `#abc`, `aabbcc`, `#aabbcc`; nil otherwise.
    init?(_ raw: String) {
        let text = raw.trimmingWhitespace().lowercased()
        if let hex = Self.named[text], let parsed = Self.hex(hex) {
            self = parsed
            name = text
            return
        }
        guard let parsed = Self.hex(text) else { return nil }
        self = parsed
    }

    private init(fill: String, red: Int, green: Int, blue: Int) {
        self.fill = fill
        self.name = fill
        self.red = red
        self.green = green
        self.blue = blue
    }

    private static func hex(_ text: String) -> BadgeColor? {
        let digits = text.hasPrefix("#") ? Substring(text.dropFirst()) : Substring(text)
        guard digits.count == 3 || digits.count == 6 else { return nil }
        var values: [Int] = []
        for character in digits {
            guard let value = character.hexDigitValue, character.isASCII else { return nil }
            values.append(value)
        }
        let channels =
            values.count == 3
            ? values.map { $0 * 17 }
            : [values[0] * 16 + values[1], values[2] * 16 + values[3], values[4] * 16 + values[5]]
        return BadgeColor(fill: "#" + digits, red: channels[0], green: channels[1], blue: channels[2])
    }

    /// shields' brightness: (299 R + 587 G + 114 B) / 255000, rounded to two decimals.
    var brightness: Double {
        let value = Double(red * 299 + green * 587 + blue * 114) / 255_000
        return (value * 100).rounded() / 100
    }

    /// Text and shadow colours readable on this background, as shields picks them (threshold 0.69).
    var textColors: (text: String, shadow: String) {
        brightness <= 0.69 ? ("#fff", "#010101") : ("#333", "#ccc")
    }
}
