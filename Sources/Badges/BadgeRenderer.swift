/// Renders badges as SVG following shields.io's badge-maker templates (flat, flat-square, plastic,
/// for-the-badge, social). Text is drawn at ten times its size under `transform="scale(.1)"` with an explicit
/// `textLength`, so it always fills exactly the width measured for it and never overflows its box.
struct BadgeRenderer {
    let label: String
    let message: String
    let color: BadgeColor
    let labelColor: BadgeColor
    /// shields: a label box is drawn when there is label text or an explicit label colour.
    let hasLabel: Bool
    /// Drawn as a line chart in the message box (the message stays the accessible text).
    let sparkline: [Int]?

    static let fontFamily = "Verdana,Geneva,DejaVu Sans,sans-serif"
    static let socialFontFamily = "Helvetica Neue,Helvetica,Arial,sans-serif"
    /// Bold Verdana/DejaVu Sans capitals and digits run 10–14% wider than regular (measured on DejaVu Sans Bold);
    /// erring wide adds a little letter spacing rather than squeezing the text.
    static let boldFactor = 1.13
    /// Bold Helvetica/Arial runs 0.92–1.02× the regular Verdana/DejaVu table (measured on Liberation Sans Bold);
    /// 1 keeps capitalised labels such as "Success" from being squeezed.
    static let socialFactor = 1.0

    init(badge: Badge) {
        label = BadgeText.clean(badge.label)
        message = BadgeText.clean(badge.message)
        color = BadgeColor(badge.color) ?? .lightgrey
        let explicitLabelColor = badge.labelColor.flatMap { BadgeColor($0) }
        labelColor = explicitLabelColor ?? .defaultLabel
        hasLabel = !label.isEmpty || explicitLabelColor != nil
        sparkline = badge.sparkline
    }

    func render(style: BadgeStyle) -> String {
        // A chart has no text to set in capitals or as a social count: the classic shapes draw it.
        if sparkline != nil {
            return classic(style == .flatSquare || style == .plastic ? style : .flat)
        }
        switch style {
        case .flat, .flatSquare, .plastic: return classic(style)
        case .forTheBadge: return forTheBadge()
        case .social: return social()
        }
    }

    // MARK: - Shared pieces

    /// shields' accessible text: "label: message", or just the message.
    var accessibleText: String {
        label.isEmpty ? message : label + ": " + message
    }

    /// shields' `preferredWidthOf`: the measured width truncated to whole pixels, then rounded up to an odd number
    /// (better odds of landing text on the pixel grid).
    static func preferredWidth(_ measured: Double) -> Int {
        let whole = Int(measured.rounded(.down))
        return whole % 2 == 0 ? whole + 1 : whole
    }

    private func open(width: Double, height: Int) -> String {
        let title = BadgeText.escapeXML(accessibleText)
        return ##"<svg xmlns="http://www.w3.org/2000/svg" width=""## + Self.number(width) + ##"" height="\##(height)" role="img" aria-label=""##
            + title + ##""><title>"## + title + "</title>"
    }

    /// A number as SVG writes it: at most two decimals, no trailing zeros ("88", "51.25", "0.5").
    static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded(.toNearestOrAwayFromZero))
        let sign = hundredths < 0 ? "-" : ""
        let (whole, fraction) = hundredths.magnitude.quotientAndRemainder(dividingBy: 100)
        if fraction == 0 { return sign + String(whole) }
        let digits = fraction < 10 ? "0" + String(fraction) : String(fraction)
        return sign + String(whole) + "." + (digits.hasSuffix("0") ? String(digits.dropLast()) : digits)
    }

    // MARK: - flat, flat-square, plastic

    private func classic(_ style: BadgeStyle) -> String {
        let height = style == .plastic ? 18 : 20
        let verticalMargin = style == .plastic ? -10 : 0
        let padding = 5
        let labelTextWidth = label.isEmpty ? 0 : Self.preferredWidth(BadgeText.width(label))
        let messageTextWidth = sparkline.map { Sparkline.width($0.count) } ?? Self.preferredWidth(BadgeText.width(message))
        let leftWidth = hasLabel ? labelTextWidth + 2 * padding : 0
        let rightWidth = messageTextWidth + 2 * padding
        let width = leftWidth + rightWidth
        var messageMargin = leftWidth - (message.isEmpty ? 0 : 1)
        if !hasLabel { messageMargin += 1 }
        let leftFill = hasLabel ? labelColor.fill : color.fill

        var svg = open(width: Double(width), height: height)
        switch style {
        case .plastic:
            svg +=
                ##"<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#fff" stop-opacity=".7"/>"##
                + ##"<stop offset=".1" stop-color="#aaa" stop-opacity=".1"/><stop offset=".9" stop-color="#000" stop-opacity=".3"/>"##
                + ##"<stop offset="1" stop-color="#000" stop-opacity=".5"/></linearGradient>"##
        case .flat:
            svg +=
                ##"<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>"##
                + ##"<stop offset="1" stop-opacity=".1"/></linearGradient>"##
        default:
            break
        }
        let boxes =
            ##"<rect width="\##(leftWidth)" height="\##(height)" fill="\##(leftFill)"/>"##
            + ##"<rect x="\##(leftWidth)" width="\##(rightWidth)" height="\##(height)" fill="\##(color.fill)"/>"##
        if style == .flatSquare {
            svg += ##"<g shape-rendering="crispEdges">"## + boxes + "</g>"
        } else {
            let radius = style == .plastic ? 4 : 3
            svg +=
                ##"<clipPath id="r"><rect width="\##(width)" height="\##(height)" rx="\##(radius)" fill="#fff"/></clipPath>"##
                + ##"<g clip-path="url(#r)">"## + boxes + ##"<rect width="\##(width)" height="\##(height)" fill="url(#s)"/></g>"##
        }
        svg += ##"<g fill="#fff" text-anchor="middle" font-family="\##(Self.fontFamily)" text-rendering="geometricPrecision" font-size="110">"##
        let shadow = style != .flatSquare
        if hasLabel && !label.isEmpty {
            svg += classicText(
                label, x: 10 * (1 + padding) + 5 * labelTextWidth, textWidth: labelTextWidth,
                background: labelColor, verticalMargin: verticalMargin, shadow: shadow)
        }
        if let sparkline {
            let points = Sparkline.points(
                sparkline, x0: Double(messageMargin + padding), width: Double(messageTextWidth), top: 4, bottom: Double(height - 4))
            let path = points.map { Self.number($0.x) + "," + Self.number($0.y) }.joined(separator: " ")
            svg +=
                ##"</g><polyline fill="none" stroke="\##(color.textColors.text)" stroke-width="1.5" stroke-linejoin="round" "##
                + ##"stroke-linecap="round" points="\##(path)"/></svg>"##
            return svg
        }
        if !message.isEmpty {
            svg += classicText(
                message, x: 10 * (messageMargin + padding) + 5 * messageTextWidth, textWidth: messageTextWidth,
                background: color, verticalMargin: verticalMargin, shadow: shadow)
        }
        return svg + "</g></svg>"
    }

    private func classicText(_ text: String, x: Int, textWidth: Int, background: BadgeColor, verticalMargin: Int, shadow: Bool) -> String {
        let colors = background.textColors
        let content = BadgeText.escapeXML(text)
        var svg = ""
        if shadow {
            svg +=
                ##"<text aria-hidden="true" x="\##(x)" y="\##(150 + verticalMargin)" fill="\##(colors.shadow)" fill-opacity=".3" "##
                + ##"transform="scale(.1)" textLength="\##(10 * textWidth)">"## + content + "</text>"
        }
        svg +=
            ##"<text x="\##(x)" y="\##(140 + verticalMargin)" transform="scale(.1)" fill="\##(colors.text)" "##
            + ##"textLength="\##(10 * textWidth)">"## + content + "</text>"
        return svg
    }

    // MARK: - for-the-badge

    private func forTheBadge() -> String {
        let height = 28
        let textMargin = 12.0
        let letterSpacing = 1.25
        let label = label.uppercased()
        let message = message.uppercased()
        // Widths at 10px: the 11px table scaled by 10/11, the message in bold; letter spacing after each character.
        let labelTextWidth =
            label.isEmpty
            ? 0 : Double(Self.preferredWidth(BadgeText.width(label) * 10 / 11)) + letterSpacing * Double(label.count)
        let messageTextWidth =
            message.isEmpty
            ? 0 : Double(Self.preferredWidth(BadgeText.width(message) * 10 / 11 * Self.boldFactor)) + letterSpacing * Double(message.count)
        let leftWidth = hasLabel ? labelTextWidth + 2 * textMargin : 0
        let rightWidth = messageTextWidth + 2 * textMargin
        let width = leftWidth + rightWidth
        let leftFill = hasLabel ? labelColor.fill : color.fill

        var svg = open(width: width, height: height)
        let left = Self.number(leftWidth)
        svg +=
            ##"<g shape-rendering="crispEdges"><rect width="\##(left)" height="\##(height)" fill="\##(leftFill)"/>"##
            + ##"<rect x="\##(left)" width=""## + Self.number(rightWidth) + ##"" height="\##(height)" fill="\##(color.fill)"/></g>"##
        svg += ##"<g fill="#fff" text-anchor="middle" font-family="\##(Self.fontFamily)" text-rendering="geometricPrecision" font-size="100">"##
        if hasLabel && !label.isEmpty {
            svg +=
                ##"<text transform="scale(.1)" x=""## + Self.number(10 * (textMargin + labelTextWidth / 2)) + ##"" y="175" textLength=""##
                + Self.number(10 * labelTextWidth) + ##"" fill="\##(labelColor.textColors.text)">"## + BadgeText.escapeXML(label) + "</text>"
        }
        if !message.isEmpty {
            svg +=
                ##"<text transform="scale(.1)" x=""## + Self.number(10 * (leftWidth + rightWidth / 2)) + ##"" y="175" textLength=""##
                + Self.number(10 * messageTextWidth) + ##"" fill="\##(color.textColors.text)" font-weight="bold">"## + BadgeText.escapeXML(message)
                + "</text>"
        }
        return svg + "</g></svg>"
    }

    // MARK: - social

    private func social() -> String {
        // shields capitalises the first letter of a social label.
        let label = label.prefix(1).uppercased() + label.dropFirst()
        let labelPadding = 5
        let messagePadding = 4
        let gutter = 6
        let labelTextWidth = label.isEmpty ? 0 : Self.preferredWidth(BadgeText.width(label) * Self.socialFactor)
        let messageTextWidth = Self.preferredWidth(BadgeText.width(message) * Self.socialFactor)
        let labelRectWidth = labelTextWidth + 2 * labelPadding
        let messageRectWidth = messageTextWidth + 2 * messagePadding
        let hasMessage = !message.isEmpty
        let width = labelRectWidth + 1 + (hasMessage ? gutter + messageRectWidth : 0)

        var svg = open(width: Double(width), height: 20)
        svg +=
            ##"<linearGradient id="a" x2="0" y2="100%"><stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/>"##
            + ##"<stop offset="1" stop-opacity=".1"/></linearGradient>"##
        svg += ##"<g stroke="#d5d5d5"><rect stroke="none" fill="#fcfcfc" x="0.5" y="0.5" width="\##(labelRectWidth)" height="19" rx="2"/>"##
        if hasMessage {
            let bubbleX = labelRectWidth + gutter
            svg +=
                ##"<rect x="\##(bubbleX).5" y="0.5" width="\##(messageRectWidth)" height="19" rx="2" fill="#fafafa"/>"##
                + ##"<rect x="\##(bubbleX)" y="7.5" width="0.5" height="5" stroke="#fafafa"/>"##
                + ##"<path d="M\##(bubbleX).5 6.5 l-3 3v1 l3 3" stroke="#d5d5d5" fill="#fafafa"/>"##
        }
        svg += "</g>"
        svg +=
            ##"<g fill="#333" text-anchor="middle" font-family="\##(Self.socialFontFamily)" text-rendering="geometricPrecision" "##
            + ##"font-weight="700" font-size="110">"##
        svg += ##"<rect stroke="#d5d5d5" fill="url(#a)" x=".5" y=".5" width="\##(labelRectWidth)" height="19" rx="2"/>"##
        if !label.isEmpty {
            svg += socialText(label, x: 10 * labelPadding + 5 * labelTextWidth, textWidth: labelTextWidth)
        }
        if hasMessage {
            svg += socialText(message, x: 10 * (labelRectWidth + gutter) + 5 * messageRectWidth, textWidth: messageTextWidth)
        }
        return svg + "</g></svg>"
    }

    private func socialText(_ text: String, x: Int, textWidth: Int) -> String {
        let content = BadgeText.escapeXML(text)
        return ##"<text aria-hidden="true" x="\##(x)" y="150" fill="#fff" transform="scale(.1)" textLength="\##(10 * textWidth)">"##
            + content + "</text>"
            + ##"<text x="\##(x)" y="140" transform="scale(.1)" textLength="\##(10 * textWidth)">"## + content + "</text>"
    }
}
