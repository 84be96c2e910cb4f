import Analytics
import Foundation
import Testing

@Suite("Rounding: half away from zero, exact")
struct RoundingTests {
    @Test(arguments: [
        (1, 2, 1), (3, 2, 2), (5, 2, 3), (2340, 1, 2340), (1001 + 2000, 2, 1501), (-3, 2, -2), (7, 3, 2), (8, 3, 3),
    ])
    func integerAverages(numerator: Int, denominator: Int, expected: Int) {
        #expect(Rounding.average(numerator, denominator) == expected)
    }

    @Test func averageOfNothingIsNil() {
        #expect(Rounding.average(0, 0) == nil)
        #expect(Rounding.averageOneDecimal(0, 0) == nil)
        #expect(Rounding.percentage(0, of: 0) == nil)
    }

    @Test func oneDecimalAveragesAndPercentages() {
        #expect(Rounding.averageOneDecimal(9, 2) == 4.5)
        #expect(Rounding.averageOneDecimal(14, 3) == 4.7)  // 4.666…
        #expect(Rounding.averageOneDecimal(29, 20) == 1.5)  // 1.45 exactly → away from zero
        #expect(Rounding.percentage(963, of: 1000) == 96.3)
        #expect(Rounding.percentage(1, of: 8) == 12.5)
        #expect(Rounding.percentage(1, of: 16) == 6.3)  // 6.25 → 6.3
        #expect(Rounding.percentage(2, of: 3) == 66.7)
        #expect(Rounding.percentage(5, of: 5) == 100)
    }
}

@Suite("Windows and days")
struct WindowTests {
    @Test(arguments: ["0", "366", "abc", "1.5", "", "-1", "+5", " 5", "1e2", "0030"])
    func invalidDays(raw: String) {
        #expect(AnalyticsWindow.parseDays(raw) == nil)
    }

    @Test func validDays() {
        #expect(AnalyticsWindow.parseDays(nil) == 30)
        #expect(AnalyticsWindow.parseDays("1") == 1)
        #expect(AnalyticsWindow.parseDays("365") == 365)
        #expect(AnalyticsWindow.parseDays("030") == 30)
    }

    @Test func windowCoversTodayAndDaysMinusOneBefore() throws {
        // 2026-03-01 00:30 UTC: a leap-free February.
        let now = try #require(ISO8601DateFormatter().date(from: "2026-03-01T00:30:00Z"))
        let window = AnalyticsWindow(days: 3, now: now)
        #expect(window.dates == ["2026-02-27", "2026-02-28", "2026-03-01"])
        #expect(window.startTimestamp == "2026-02-27T00:00:00Z")
        let late = try #require(ISO8601DateFormatter().date(from: "2026-03-01T23:59:59Z"))
        #expect(AnalyticsWindow(days: 1, now: late).dates == ["2026-03-01"])
        let leap = try #require(ISO8601DateFormatter().date(from: "2028-03-01T12:00:00Z"))
        #expect(AnalyticsWindow(days: 2, now: leap).dates == ["2028-02-29", "2028-03-01"])
        #expect(AnalyticsWindow(days: 365, now: now).dates.count == 365)
    }

    @Test func dayFormatRoundTrips() {
        for day in stride(from: -800, through: 30_000, by: 37) {
            #expect(DayFormat.day(DayFormat.string(day)) == day)
        }
        #expect(DayFormat.string(0) == "1970-01-01")
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 1_737_387_000)) == "2025-01-20T15:30:00Z")
    }
}

@Suite("Version order")
struct VersionOrderTests {
    @Test func semanticVersionsByNumericPartsThenOthers() {
        let versions = ["1.9.0", "1.10.0", "2.0.0-beta.1", "2.0.0", "2.0.0-alpha", "2.0.0-beta.11", "2.0.0-beta.2", "latest", "1.2", "0.9.9", "abc"]
        let sorted = versions.sorted(by: VersionOrder.newerFirst)
        #expect(VersionOrder.sortedNewestFirst(versions.map { ($0, 1) }, version: \.0).map(\.0) == sorted)
        #expect(
            sorted == ["2.0.0", "2.0.0-beta.11", "2.0.0-beta.2", "2.0.0-beta.1", "2.0.0-alpha", "1.10.0", "1.9.0", "0.9.9", "1.2", "abc", "latest"])
    }

    @Test func buildMetadataAndLeadingV() {
        #expect(VersionOrder.newerFirst("v1.10.0", "1.9.0"))
        #expect(VersionOrder.newerFirst("1.0.0+build.5", "0.99.0"))
        #expect(!VersionOrder.newerFirst("1.0.0-rc.1", "1.0.0"))
    }
}

@Suite("Canonical UUID text")
struct CanonicalUUIDTests {
    @Test func matchesFoundationsLowerCasedForm() {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.canonical == id.uuidString.lowercased())
        }
    }

    @Test func highAndLowWordsAreBigEndian() {
        #expect(UUID(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210).canonical == "01234567-89ab-cdef-fedc-ba9876543210")
        #expect(UUID(high: 0, low: 1).canonical == "00000000-0000-0000-0000-000000000001")
    }
}
