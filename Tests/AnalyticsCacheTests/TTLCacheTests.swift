import AnalyticsCache
import Synchronization
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

@Suite("In-process TTL cache bounds")
struct TTLCacheTests {
    /// Issue 29: entries keyed by something that changes (an answer's ETag) are never read
    /// again; they must still leave once expired, not stay until the cache is full.
    @Test func expiredEntriesLeaveWithoutBeingReadAgain() {
        let clock = ManualClock()
        let cache = TTLCache<String, Int>(ttl: .seconds(60), capacity: 100_000, now: { clock.now })
        for index in 0..<1000 { cache["etag-\(index)"] = index }
        #expect(cache.count == 1000)
        clock.advance(by: .seconds(61))
        cache["etag-new"] = 1
        #expect(cache.count == 1)
        #expect(cache["etag-new"] == 1)
        #expect(cache["etag-999"] == nil)
    }

    @Test func onlyExpiredEntriesLeave() {
        let clock = ManualClock()
        let cache = TTLCache<Int, Int>(ttl: .seconds(60), capacity: 100, now: { clock.now })
        for index in 0..<10 { cache[index] = index }
        clock.advance(by: .seconds(30))
        for index in 10..<20 { cache[index] = index }
        clock.advance(by: .seconds(31))
        cache[20] = 20
        #expect(cache.count == 11)
        #expect(cache[9] == nil)
        #expect(cache[10] == 10)
    }

    /// Over `capacity` the oldest entries make room (the first version emptied the whole cache).
    @Test func overCapacityTheOldestLeave() {
        let cache = TTLCache<Int, Int>(ttl: .seconds(60), capacity: 10)
        for index in 0..<11 { cache[index] = index }
        #expect(cache.count == 10)
        #expect(cache[0] == nil)
        #expect(cache[1] == 1)
        #expect(cache[10] == 10)
    }

    @Test func boundedByBytes() {
        let cache = TTLCache<Int, [UInt8]>(ttl: .seconds(60), capacity: 1000, maxBytes: 1000) { _, value in value.count }
        for index in 0..<50 { cache[index] = [UInt8](repeating: 1, count: 100) }
        #expect(cache.count == 10)
        #expect(cache.size == StructureSize(entries: 10, bytes: 1000))
        #expect(cache[49]?.count == 100)
        #expect(cache[39] == nil)
        // A value larger than the whole bound is not kept, and evicts nothing.
        cache[99] = [UInt8](repeating: 1, count: 1001)
        #expect(cache[99] == nil)
        #expect(cache.count == 10)
    }

    @Test func aKeyStoredAgainCountsOnce() {
        let cache = TTLCache<String, [UInt8]>(ttl: .seconds(60), capacity: 10, maxBytes: 1000) { _, value in value.count }
        for round in 0..<10_000 { cache["same"] = [UInt8](repeating: UInt8(round % 200), count: 100) }
        #expect(cache.size == StructureSize(entries: 1, bytes: 100))
        cache["other"] = [1]
        #expect(cache.count == 2)
        cache["same"] = nil
        #expect(cache.size == StructureSize(entries: 1, bytes: 1))
    }

    @Test func aShorterLifetimeEndsFirst() {
        let clock = ManualClock()
        let cache = TTLCache<Int, Int>(ttl: .seconds(10), capacity: 10, now: { clock.now })
        cache.set(1, 1, lifetime: .seconds(2))
        cache.set(2, 2, lifetime: .seconds(60))  // never more than the cache's ttl
        clock.advance(by: .seconds(3))
        #expect(cache[1] == nil)
        #expect(cache[2] == 2)
        clock.advance(by: .seconds(8))
        #expect(cache[2] == nil)
    }

    /// Values made from an answer are kept once per key: a new version replaces the old one.
    @Test func versionedValuesKeepOneEntryPerKey() {
        let cache = TTLCache<String, Versioned<Int>>(ttl: .seconds(60), capacity: 100)
        let made = Mutex(0)
        func value(_ version: String) -> Int {
            cache.value("package|30", version: version) {
                made.withLock { $0 += 1 }
                return version.count
            }
        }
        #expect(value("a") == 1)
        #expect(value("a") == 1)
        #expect(made.withLock { $0 } == 1)
        for round in 0..<100 { _ = value(String(repeating: "b", count: round + 2)) }
        #expect(made.withLock { $0 } == 101)
        #expect(cache.count == 1)
    }

    @Test func sizesAreReportedByName() {
        let sizes = InProcessSizes()
        var cache: TTLCache<Int, Int>? = TTLCache(ttl: .seconds(60), capacity: 10)
        sizes.register("numbers", cache!)
        cache![1] = 1
        cache![2] = 2
        #expect(sizes.snapshot()["numbers"] == StructureSize(entries: 2, bytes: nil))
        #expect(sizes.prometheusText().contains("prpm_inprocess_entries{structure=\"numbers\"} 2\n"))
        cache = nil
        #expect(sizes.snapshot()["numbers"] == nil)
    }
}
