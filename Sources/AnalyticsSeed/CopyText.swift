import Analytics

/// Building `COPY … FROM STDIN` text-format data in a byte buffer: fields separated by tabs,
/// rows ended by newlines, NULL as `\N`, and backslash, tab, newline and carriage return escaped.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func tab() { append(9) }

    @inline(__always)
    mutating func endRow() { append(10) }

    @inline(__always)
    mutating func null() {
        append(92)
        append(78)
    }

    /// A decimal integer.
    @inline(__always)
    mutating func appendInt(_ value: Int) {
        if value < 0 {
            append(UInt8(ascii: "-"))
            appendInt(-value)
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        while divisor > 0 {
            append(48 &+ UInt8((value / divisor) % 10))
            divisor /= 10
        }
    }

    /// `n` decimal digits, zero-padded.
    @inline(__always)
    mutating func appendPadded(_ value: Int, _ width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            append(48 &+ UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    @inline(__always)
    mutating func appendBool(_ value: Bool) { append(value ? UInt8(ascii: "t") : UInt8(ascii: "f")) }

    /// A text value, escaped for COPY's text format.
    mutating func appendEscaped(_ text: String) { appendEscaped(Array(text.utf8)) }

    mutating func appendEscaped(_ bytes: [UInt8]) { append(contentsOf: copyEscaped(bytes)) }

    /// A `timestamptz` value in UTC: `YYYY-MM-DD HH:MM:SS.ffffff+00`.
    mutating func appendTimestamp(_ micros: Int64, datePrefix: [UInt8]? = nil) {
        let day = micros >= 0 ? micros / microsPerDay : (micros - microsPerDay + 1) / microsPerDay
        let rest = Int(micros - day * microsPerDay)
        if let datePrefix { append(contentsOf: datePrefix) } else { append(contentsOf: Array(DayFormat.string(Int(day)).utf8)) }
        append(32)
        let seconds = rest / 1_000_000
        appendPadded(seconds / 3600, 2)
        append(58)
        appendPadded((seconds / 60) % 60, 2)
        append(58)
        appendPadded(seconds % 60, 2)
        append(46)
        appendPadded(rest % 1_000_000, 6)
        append(contentsOf: [43, 48, 48])  // "+00"
    }
}

/// The COPY text-format escape of a value.
func copyEscaped(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    for byte in bytes {
        switch byte {
        case 92: out += [92, 92]  // backslash
        case 9: out += [92, 116]  // \t
        case 10: out += [92, 110]  // \n
        case 13: out += [92, 114]  // \r
        default: out.append(byte)
        }
    }
    return out
}

/// A whole row of optional text values (for the small tables).
func copyRow(_ fields: [String?]) -> [UInt8] {
    var row: [UInt8] = []
    for (index, field) in fields.enumerated() {
        if index > 0 { row.tab() }
        if let field { row.appendEscaped(field) } else { row.null() }
    }
    row.endRow()
    return row
}

/// The text of a timestamp for `copyRow`.
func copyTimestamp(_ micros: Int64) -> String {
    var bytes: [UInt8] = []
    bytes.appendTimestamp(micros)
    return String(decoding: bytes, as: UTF8.self)
}
