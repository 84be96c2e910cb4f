import Foundation
import NullableCoding
import Testing

@testable import Analytics

/// `SortedJSONEncoder` writes what `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`)
/// writes for the same values: compared as parsed JSON, and byte for byte where the two
/// agree on the form (everything but the order of keys that differ only in case or
/// punctuation, which Foundation compares locale-aware).
@Suite struct SortedJSONEncoderTests {
    static func foundation(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try encoder.encode(value)
    }

    static func parsed(_ data: Data) throws -> NSObject {
        try #require(JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? NSObject)
    }

    static func sameAsFoundation(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = try SortedJSONEncoder.encode(value)
        let theirs = try foundation(value)
        #expect(try parsed(Data(ours)) == parsed(theirs), sourceLocation: sourceLocation)
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: theirs, as: UTF8.self), sourceLocation: sourceLocation)
    }

    static let strange = "quote \" backslash \\ slash / newline \n tab \t return \r bell \u{07} nul \u{00} unit \u{1F} é 🚀"

    @Test func responseModelsEncodeLikeJSONEncoder() throws {
        let user = UserStats(
            userId: UUID(), days: 3, totalRuns: 12, creditsSpent: 40, totalTokens: 9_000_000_000, mostUsedModel: Self.strange,
            mostTestedPackage: nil, avgResponseTime: nil,
            dailyActivity: [.init(date: "2026-11-28", runs: 0, credits: 0), .init(date: "2026-11-29", runs: 12, credits: 40)],
            modelUsage: [.init(model: "claude-sonnet", runs: 12, credits: 40, avg_duration: 1_234)],
            topPackages: [
                .init(id: UUID(), name: "p", runs: 12, credits: 40, avg_rating: 4.7),
                .init(id: UUID(), name: "q", runs: 1, credits: 0, avg_rating: nil),
            ])
        try Self.sameAsFoundation(user)
        try Self.sameAsFoundation(
            TrendingPackages(
                computedAt: nil,
                packages: [
                    .init(id: UUID(), name: "a/b", thisWeek: 3, lastWeek: 0, changePct: nil, trend: "new"),
                    .init(id: UUID(), name: "c", thisWeek: 1, lastWeek: 4, changePct: -75, trend: "falling"),
                ]))
        try Self.sameAsFoundation(PopularPackages(days: 30, packages: []))
        try Self.sameAsFoundation(SiteSummary(totalRuns: Int.max, uniqueUsers: 0, packagesWithRuns: -1, computedAt: "2026-11-29T00:00:00Z"))
        try Self.sameAsFoundation(FeedbackResult(usageId: UUID(), rating: 5, wasHelpful: false, feedback: Self.strange))
        try Self.sameAsFoundation(IngestResult(ids: [UUID(), UUID()]))
        try Self.sameAsFoundation(WeekOverWeek(thisWeek: 10, lastWeek: 3, changePct: 233.3, trend: "rising", computedAt: "2026-11-29T00:00:00Z"))
    }

    @Test func doublesAreWrittenAsJSONEncoderWritesThem() throws {
        for value in [
            0, -0.0, 1, 100, 4.7, 0.1, 66.7, -3.5, 1e21, 1.5e-7, 123_456_789.125, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude,
        ] {
            try Self.sameAsFoundation(value)
            try Self.sameAsFoundation([value])
        }
    }

    @Test func nestedContainersSuperEncodersAndDictionaries() throws {
        struct Custom: Encodable {
            enum Keys: String, CodingKey { case zeta, alpha, nested, list }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(true, forKey: .zeta)
                try container.encodeNil(forKey: .alpha)
                var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .nested)
                try nested.encode(UInt8(7), forKey: .zeta)
                try nested.encode(Float(0.5), forKey: .alpha)
                var list = container.nestedUnkeyedContainer(forKey: .list)
                try list.encode(Int8(-1))
                try list.encodeNil()
                var inner = list.nestedContainer(keyedBy: Keys.self)
                try inner.encode("x", forKey: .alpha)
                try list.encode(["b": 2, "a": 1])
            }
        }
        try Self.sameAsFoundation(Custom())
        try Self.sameAsFoundation(["zz": [1, 2], "aa": [], "m": [3]])
        try Self.sameAsFoundation(Nullable<Int>(wrappedValue: nil))
    }

    @Test func keysAreOrderedByTheirBytesAndTheOutputIsStable() throws {
        let value = ["b": 1, "B": 2, "a_b": 3, "aB": 4, "ab": 5, "a": 6]
        let text = String(decoding: try SortedJSONEncoder.encode(value), as: UTF8.self)
        #expect(text == #"{"B":2,"a":6,"aB":4,"a_b":3,"ab":5,"b":1}"#)
        for _ in 0..<20 { #expect(String(decoding: try SortedJSONEncoder.encode(value), as: UTF8.self) == text) }
        #expect(try Self.parsed(Data(text.utf8)) == Self.parsed(Self.foundation(value)))
    }

    @Test func nonFiniteDoublesAreRefusedWithTheirPath() throws {
        struct Holder: Encodable { var rates: [Double] }
        #expect {
            try SortedJSONEncoder.encode(Holder(rates: [1, .nan]))
        } throws: { error in
            guard case EncodingError.invalidValue(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["rates", "Index 1"]
        }
        #expect(throws: EncodingError.self) { try SortedJSONEncoder.encode(Double.infinity) }
    }
}
