import Foundation

/// A value sent as a text-format parameter (NULL when `postgresText` is nil).
public protocol PostgresEncodable: Sendable {
    var postgresText: String? { get }
}

/// A value read from a text-format result column.
public protocol PostgresDecodable: Sendable {
    init(postgresText: String) throws
}

struct DecodeFailure: Error {}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws {
        if let value = Int(postgresText) {
            self = value
        } else if let value = Double(postgresText), value.rounded() == value {
            self = Int(value)
        } else {
            throw DecodeFailure()
        }
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws {
        guard let value = Double(postgresText) else { throw DecodeFailure() }
        self = value
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw DecodeFailure()
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw DecodeFailure() }
        self = value
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// Sent as ISO-8601 with microseconds in UTC.
    public var postgresText: String? { PostgresTimestamp.format(self) }
    /// Reads `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM]]` as written by a server in any time zone.
    public init(postgresText: String) throws {
        guard let value = PostgresTimestamp.parse(postgresText) else { throw DecodeFailure() }
        self = value
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self.flatMap { $0.postgresText } }
}

/// Text form of `timestamptz` values.
public enum PostgresTimestamp {
    public static func format(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = Int((micros / 1_000_000).rounded(.down))
        let fraction = Int(micros) - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m, d, secondOfDay / 3600, (secondOfDay % 3600) / 60, secondOfDay % 60, fraction)
    }

    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        var seconds = Double(daysFromCivil(year, month, day) * 86_400)
        var index = 10
        if bytes.count >= 19, bytes[10] == 32 || bytes[10] == 84 {
            guard let h = number(11..<13), let mi = number(14..<16), let s = number(17..<19) else { return nil }
            seconds += Double(h * 3600 + mi * 60 + s)
            index = 19
            if index < bytes.count, bytes[index] == 46 {
                var end = index + 1
                while end < bytes.count, bytes[end] >= 48, bytes[end] <= 57 { end += 1 }
                if let fraction = Double("0" + String(decoding: bytes[index..<end], as: UTF8.self)) { seconds += fraction }
                index = end
            }
        }
        if index < bytes.count {
            if bytes[index] == 90 { return Date(timeIntervalSince1970: seconds) }
            let sign: Double = bytes[index] == 45 ? -1 : 1
            guard let oh = number(index + 1..<index + 3) else { return nil }
            var offset = Double(oh * 3600)
            if index + 6 <= bytes.count, bytes[index + 3] == 58, let om = number(index + 4..<index + 6) { offset += Double(om * 60) }
            seconds -= sign * offset
        }
        return Date(timeIntervalSince1970: seconds)
    }

    // Howard Hinnant's civil-date algorithms (proleptic Gregorian).
    public static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}
