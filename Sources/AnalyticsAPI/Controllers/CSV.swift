import Foundation

/// CSV for spreadsheets (RFC 4180): UTF-8, CRLF line ends, a header row; a field is quoted when
/// it holds a comma, a quote (doubled), CR or LF. Formula injection (OWASP "CSV injection"): a
/// field starting with `=`, `+`, `-`, `@`, a tab or CR would be run as a formula by Excel,
/// LibreOffice or Sheets, so it gets a leading `'` and is quoted (`'=cmd()` shows as text).
enum CSV {
    static let formulaStarts: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    static func document(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }

    static func field(_ value: String) -> String {
        var text = value
        var quote = false
        if let first = text.first, formulaStarts.contains(first) {
            text = "'" + text
            quote = true
        }
        if text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) { quote = true }
        return quote ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// Dollars as a spreadsheet reads them: 2 decimals, no separator (12.3 → "12.30").
    static func usd(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "" }
}
