import Foundation

/// The freshness rule of the contract (section 6), as pure arithmetic on millisecond times.
///
/// An entry carries its *snapshot* time `s`: taken before its computation started, so every
/// write committed before `s` is in it. Writes mark their entities with the time they were
/// acknowledged (`written`, the newest one; marks never move back). A write at `w ≥ s` may be
/// missing from the entry; it must show once `w + lag` has passed. Only the newest mark is
/// kept, so the earliest missing write is assumed to be just after `s`: an entry with a newer
/// mark is fresh for at most `lag` after its snapshot. That is conservative (a hot entity is
/// refreshed at most once per `lag`), never late, and needs one number per entity.
///
/// `lag` is `CACHE_PUBLIC_LAG_S` for shared answers and 0 for a user's own answer
/// (read-your-writes: any newer write makes the entry unusable).
public struct Freshness: Sendable, Equatable {
    public var ttlMillis: Int64
    public var lagMillis: Int64
    public var graceMillis: Int64

    public init(ttl: Int, lag: Int, grace: Int) {
        self.ttlMillis = Int64(ttl) * 1000
        self.lagMillis = Int64(lag) * 1000
        self.graceMillis = Int64(grace) * 1000
    }

    public enum Verdict: Sendable, Equatable {
        /// Serve as a HIT until `freshUntil` (ms); `refreshSoon`: a write is pending or the
        /// entry nears its expiry, so one request should refresh it in the background.
        case fresh(freshUntil: Int64, refreshSoon: Bool)
        /// Past its TTL or its lag: may be served `STALE` while one request refreshes it.
        case stale
        /// Unusable: compute before answering.
        case unusable
    }

    /// `earlyRefreshMillis`: how long before the end of its freshness an entry is refreshed in
    /// the background (probabilistic early expiry draws it per read).
    public func verdict(snapshot: Int64, written: Int64?, now: Int64, earlyRefreshMillis: Int64 = 0) -> Verdict {
        let age = now - snapshot
        let missesAWrite = written.map { $0 >= snapshot } ?? false
        var freshUntil = snapshot + ttlMillis
        if missesAWrite { freshUntil = min(freshUntil, snapshot + lagMillis) }
        if now < freshUntil {
            // A pending write is refreshed in the last quarter of the lag: early enough that a
            // key read more often than every lag/4 never turns STALE, late enough that a key
            // with writes all the time is recomputed about once per lag (from half the lag on,
            // the org answers were recomputed 40 % more often under the full mix).
            let pending = missesAWrite && age >= lagMillis - lagMillis / 4
            return .fresh(freshUntil: freshUntil, refreshSoon: pending || now >= freshUntil - earlyRefreshMillis)
        }
        if missesAWrite && lagMillis == 0 { return .unusable }
        if missesAWrite && age < ttlMillis { return .stale }
        return age < ttlMillis + graceMillis ? .stale : .unusable
    }

    /// Whether refresh-ahead (the worker) should recompute an entry now, `horizonMillis` being
    /// how long until it comes back to the key: when there is no entry, when the entry misses a
    /// write (so that readers rarely see it `STALE`), or when its freshness ends before the next
    /// visit. An entry that stays fresh until then is left alone: recomputing it would change
    /// nothing a reader sees.
    public func needsRefreshAhead(snapshot: Int64?, written: Int64?, now: Int64, horizonMillis: Int64) -> Bool {
        guard let snapshot else { return true }
        if let written, written >= snapshot { return true }
        return snapshot + ttlMillis <= now + horizonMillis
    }

    /// Probabilistic early expiration ("XFetch", Vattani et al.): refresh `δ·β·(−ln U)` before
    /// expiry, δ the entry's computation time. Popular keys are refreshed by one reader shortly
    /// before they expire instead of all readers missing at once.
    public static func earlyRefreshMillis(computeMillis: Int64, beta: Double = 1, random: Double = Double.random(in: Double.ulpOfOne..<1))
        -> Int64
    {
        Int64(Double(max(computeMillis, 50)) * beta * -Foundation.log(random))
    }
}

/// Milliseconds since 1970 as the cache compares them.
public enum CacheClock {
    /// A snapshot time: rounded down, so a write acknowledged in the same millisecond counts as missing.
    public static func snapshot(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    /// A write mark: rounded up.
    public static func mark(_ date: Date = Date()) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.up)) }
}
