import Foundation
import Logging

/// One JSON object per line on stderr: `ts` (UTC, milliseconds), `level`, `logger`, `msg`,
/// then the metadata keys in sorted order.
///
/// The line is written by hand: the API logs one line per request, and building it through
/// `JSONSerialization` and a fresh `ISO8601DateFormatter` took 18 % of the server's CPU
/// under load (docs/performance.md).
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra, uniquingKeysWith: { $1 }) }
        var line = Self.render(
            timestamp: Self.timestamp(), level: event.level, label: label, message: event.message.description, metadata: merged)
        line.append(10)
        Self.writeToStandardError(line)
    }

    /// Writes all of `bytes` to standard error (one line or a batch of lines).
    @Sendable public static func writeToStandardError(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// The JSON object of one log line (without the newline).
    public static func render(timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        appendMember("ts", .string(timestamp), to: &out, first: true)
        appendMember("level", .string(level.rawValue), to: &out)
        appendMember("logger", .string(label), to: &out)
        appendMember("msg", .string(message), to: &out)
        for key in metadata.keys.sorted() where !fixedKeys.contains(key) {
            appendMember(key, metadata[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The keys every line starts with; metadata cannot override them.
    private static let fixedKeys: Set<String> = ["ts", "level", "logger", "msg"]
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Now in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(seconds: now.tv_sec, milliseconds: Int(now.tv_nsec / 1_000_000))
    }

    /// A moment in UTC as `YYYY-MM-DDTHH:MM:SS.mmmZ` (for lines rendered after the event).
    public static func timestamp(seconds: time_t, milliseconds: Int) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        text.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        text.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        text.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        text.append(UInt8(ascii: "."))
        digits(milliseconds, 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    private static func appendMember(_ key: String, _ value: Logger.Metadata.Value, to out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        appendString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        appendValue(value, to: &out)
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let items):
            out.append(UInt8(ascii: "{"))
            for (index, key) in items.keys.sorted().enumerated() {
                appendMember(key, items[key]!, to: &out, first: index == 0)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 13: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 9: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<32: out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
