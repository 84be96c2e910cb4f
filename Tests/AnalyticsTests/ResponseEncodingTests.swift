import Foundation
import Testing

@testable import Analytics

/// Equal figures must give equal bytes (and so equal ETags) in every process: keys sorted at
/// every level, not in the per-process order of a hashed dictionary.
@Suite struct ResponseEncodingTests {
    @Test func keysAreSortedAtEveryLevel() throws {
        let value = TrendingPackages(
            computedAt: "2026-11-29T00:00:00Z",
            packages: [TrendingPackages.Entry(id: UUID(), name: "a", thisWeek: 3, lastWeek: 1, changePct: 200, trend: "rising")])
        let text = String(decoding: try ResponseEncoding.encode(value), as: UTF8.self)
        #expect(text.hasPrefix(#"{"computedAt":"2026-11-29T00:00:00Z","packages":[{"changePct":200,"id":""#))
        #expect(text.hasSuffix(#"","lastWeek":1,"name":"a","thisWeek":3,"trend":"rising"}]}"#))
    }
}
