/// The visual styles of shields.io badges (`?style=`).
public enum BadgeStyle: String, CaseIterable, Sendable {
    case flat
    case flatSquare = "flat-square"
    case plastic
    case forTheBadge = "for-the-badge"
    case social
}

/// A badge to render: a label (left, grey by default) and a message (right, coloured).
public struct Badge: Sendable, Equatable {
    /// Left text; empty for a message-only badge (as shields does with `?label=`).
    public var label: String
    /// Right text.
    public var message: String
    /// Message colour: a shields named colour (`brightgreen`, `green`, `yellowgreen`, `yellow`, `orange`, `red`,
    /// `blue`, `grey`/`gray`, `lightgrey`/`lightgray`, `success`, `important`, `critical`, `informational`,
    /// `inactive`) or a hex colour (`abc`, `#abc`, `aabbcc`, `#aabbcc`). Anything else renders as lightgrey.
    public var color: String
    /// Label colour in the same forms; nil (or not a colour) means shields' default `#555`.
    public var labelColor: String?
    /// Values drawn as a line chart in the message box instead of the message text (which stays the
    /// badge's accessible text); in the endpoint JSON, block characters before the message.
    public var sparkline: [Int]?

    public init(label: String, message: String, color: String, labelColor: String? = nil) {
        self.label = label
        self.message = message
        self.color = color
        self.labelColor = labelColor
    }

    /// The badge for an unknown package: `<label>: not found` in lightgrey (`#9f9f9f`).
    /// - Parameter label: the label to show; nil uses "badge" (pass `label ?? metric.defaultLabel` to keep the metric's).
    public static func notFound(label: String?) -> Badge {
        Badge(label: label ?? "badge", message: "not found", color: "lightgrey")
    }

    /// A badge reporting bad input, e.g. `Badge.invalid("invalid metric")` → `badge: invalid metric` in red.
    public static func invalid(_ message: String) -> Badge {
        Badge(label: "badge", message: message, color: "red")
    }

    /// The badge as a standalone SVG document in the given shields.io style (UTF-8 text, no XML declaration),
    /// with `role="img"`, `aria-label` and `<title>` set to "label: message" (just "message" without a label).
    /// Text is cleaned (controls removed, trimmed, at most 256 characters) and XML-escaped.
    public func svg(style: BadgeStyle) -> String {
        BadgeRenderer(badge: self).render(style: style)
    }

    /// The shields.io endpoint-badge JSON (https://shields.io/badges/endpoint-badge), UTF-8 encoded:
    /// `{"schemaVersion":1,"label":"…","message":"…","color":"…"}` plus `"labelColor"` when one is set and valid.
    /// Colours are normalised: a named colour stays its lowercased name, a hex colour becomes `#` + its digits,
    /// an invalid colour becomes `lightgrey`.
    public func endpointJSON() -> [UInt8] {
        var fields = [
            ("label", Self.jsonString(BadgeText.clean(label))),
            (
                "message",
                Self.jsonString(sparkline.map { Sparkline.blocks($0) + " " }.map { $0 + BadgeText.clean(message) } ?? BadgeText.clean(message))
            ),
            ("color", Self.jsonString((BadgeColor(color) ?? .lightgrey).name)),
        ]
        if let labelColor, let parsed = BadgeColor(labelColor) {
            fields.append(("labelColor", Self.jsonString(parsed.name)))
        }
        var json = "{\"schemaVersion\":1"
        for (key, value) in fields {
            json += ",\"" + key + "\":" + value
        }
        json += "}"
        return Array(json.utf8)
    }

    /// `text` as a JSON string literal (quotes included).
    private static func jsonString(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}
