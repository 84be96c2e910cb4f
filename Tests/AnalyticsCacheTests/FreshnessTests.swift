import AnalyticsCache
import Foundation
import Testing

/// The freshness rule as arithmetic (times in ms).
@Suite struct FreshnessTests {
    let shared = Freshness(ttl: 300, lag: 10, grace: 60)
    let own = Freshness(ttl: 60, lag: 0, grace: 60)

    @Test func withoutWritesAnEntryIsFreshForItsTTLThenStaleForTheGrace() {
        #expect(shared.verdict(snapshot: 0, written: nil, now: 299_999) == .fresh(freshUntil: 300_000, refreshSoon: false))
        #expect(shared.verdict(snapshot: 0, written: nil, now: 300_000) == .stale)
        #expect(shared.verdict(snapshot: 0, written: nil, now: 359_999) == .stale)
        #expect(shared.verdict(snapshot: 0, written: nil, now: 360_000) == .unusable)
    }

    @Test func writesBeforeTheSnapshotAreInTheEntry() {
        #expect(shared.verdict(snapshot: 1_000, written: 999, now: 200_000) == .fresh(freshUntil: 301_000, refreshSoon: false))
        #expect(own.verdict(snapshot: 1_000, written: 999, now: 2_000) == .fresh(freshUntil: 61_000, refreshSoon: false))
    }

    @Test func aWriteAtOrAfterTheSnapshotShowsWithinTheLag() {
        // Missing a write: fresh for at most `lag` after the snapshot, refreshed early in its last quarter.
        #expect(shared.verdict(snapshot: 1_000, written: 1_000, now: 3_000) == .fresh(freshUntil: 11_000, refreshSoon: false))
        #expect(shared.verdict(snapshot: 1_000, written: 5_000, now: 8_499) == .fresh(freshUntil: 11_000, refreshSoon: false))
        #expect(shared.verdict(snapshot: 1_000, written: 5_000, now: 8_500) == .fresh(freshUntil: 11_000, refreshSoon: true))
        #expect(shared.verdict(snapshot: 1_000, written: 5_000, now: 11_000) == .stale)
        // Whatever the write's time: once `written + lag` has passed the entry is never fresh.
        for written in stride(from: Int64(1_000), through: 200_000, by: 7_919) {
            let verdict = shared.verdict(snapshot: 1_000, written: written, now: written + 10_000)
            #expect(verdict == .stale || verdict == .unusable)
        }
    }

    @Test func aUsersOwnAnswerMissingAWriteIsNeverServed() {
        #expect(own.verdict(snapshot: 1_000, written: 1_000, now: 1_001) == .unusable)
        #expect(own.verdict(snapshot: 1_000, written: 30_000, now: 30_001) == .unusable)
    }

    @Test func earlyRefreshStartsBeforeExpiry() {
        #expect(shared.verdict(snapshot: 0, written: nil, now: 299_000, earlyRefreshMillis: 2_000) == .fresh(freshUntil: 300_000, refreshSoon: true))
        #expect(shared.verdict(snapshot: 0, written: nil, now: 297_000, earlyRefreshMillis: 2_000) == .fresh(freshUntil: 300_000, refreshSoon: false))
        // XFetch: δ·β·(−ln U), at least 50 ms of δ.
        #expect(Freshness.earlyRefreshMillis(computeMillis: 10, random: 1 / 2.718281828459045) == 50)
        #expect(Freshness.earlyRefreshMillis(computeMillis: 200, random: 1 / 2.718281828459045) == 200)
        #expect(Freshness.earlyRefreshMillis(computeMillis: 200, random: 0.999_999) == 0)
    }

    /// Refresh-ahead recomputes what is missing, misses a write, or would expire before the
    /// next visit; it leaves what stays fresh until then.
    @Test func refreshAheadSkipsOnlyEntriesThatStayFreshUntilTheNextVisit() {
        // 60 s until the next visit; the entry (TTL 300 s) was computed at 0.
        #expect(shared.needsRefreshAhead(snapshot: nil, written: nil, now: 1_000, horizonMillis: 60_000))
        #expect(!shared.needsRefreshAhead(snapshot: 0, written: nil, now: 1_000, horizonMillis: 60_000))
        #expect(!shared.needsRefreshAhead(snapshot: 0, written: nil, now: 239_999, horizonMillis: 60_000))
        #expect(shared.needsRefreshAhead(snapshot: 0, written: nil, now: 240_000, horizonMillis: 60_000))
        // A write before the snapshot is in it; one at or after it is not.
        #expect(!shared.needsRefreshAhead(snapshot: 5_000, written: 4_999, now: 6_000, horizonMillis: 60_000))
        #expect(shared.needsRefreshAhead(snapshot: 5_000, written: 5_000, now: 6_000, horizonMillis: 60_000))
        // Past its TTL (stale, or gone from the reader's point of view): recomputed.
        #expect(shared.needsRefreshAhead(snapshot: 0, written: nil, now: 330_000, horizonMillis: 0))
    }

    @Test func snapshotsRoundDownAndMarksRoundUp() {
        let date = Date(timeIntervalSince1970: 1.0005)
        #expect(CacheClock.snapshot(date) == 1_000)
        #expect(CacheClock.mark(date) == 1_001)
    }
}
