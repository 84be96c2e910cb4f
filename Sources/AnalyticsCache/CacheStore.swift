import Analytics
import Foundation
import Redis
import Synchronization

/// What one lookup finds: the stored entry, and the newest write mark of its entity.
public struct StoredLookup: Sendable, Equatable {
    public var entry: CacheEntry?
    /// Milliseconds since 1970 of the newest write to the entity (nil: none recorded).
    public var written: Int64?

    public init(entry: CacheEntry?, written: Int64?) {
        self.entry = entry
        self.written = written
    }
}

/// Where cached answers, write marks and computation locks live. `RedisCacheStore` in
/// production, `InMemoryCacheStore` for unit tests of the cache policy. Every call may throw
/// when the store is unreachable; the cache decides what that means (circuit breaker).
public protocol CacheStore: Sendable {
    /// The entry of `key` and the write mark of its entity, in one round trip.
    func lookup(_ key: CacheKey) async throws -> StoredLookup
    /// Stores `entry` unless an entry with a newer snapshot is already there (a slow
    /// computation never replaces a newer answer), and with `unlocking` releases that lock
    /// token in the same round trip. Returns whether it stored.
    @discardableResult
    func store(_ key: CacheKey, _ entry: CacheEntry, expiry: Duration, unlocking token: String?) async throws -> Bool
    /// Records a write to `entities` (`package:<uuid>` …) at `at`; a mark never moves back.
    func markWritten(_ entities: [String], at: Int64, expiry: Duration) async throws
    /// Takes the cross-replica computation lock of `key`: nil when another holder has it, else
    /// what is stored under the key now (one round trip; an entry stored since the caller's
    /// lookup is then used instead of computing it again).
    func lock(_ key: CacheKey, token: String, ttl: Duration) async throws -> StoredLookup?
    /// Releases the lock only if it still holds `token`.
    func unlock(_ key: CacheKey, token: String) async throws
    /// The package `idOrName` resolved to when Postgres was last asked.
    func packageRef(_ idOrName: String) async throws -> PackageRef?
    func rememberPackageRef(_ package: PackageRef, as idOrName: String, expiry: Duration) async throws
}

extension PackageRef {
    /// `<uuid> <name>` (a name may contain spaces; the id never does).
    var stored: String { "\(id.canonical) \(name)" }

    init?(stored: String) {
        guard let space = stored.firstIndex(of: " "), let id = UUID(uuidString: String(stored[..<space])) else { return nil }
        self.init(id: id, name: String(stored[stored.index(after: space)...]))
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// The Redis implementation: a lookup is one `MGET` (entry + mark); stores and marks are Lua
/// scripts, so their check-and-set is atomic.
public struct RedisCacheStore: CacheStore {
    public let redis: RedisClient
    /// When Redis evicted keys, every mark is at least the time that was noticed (a lost mark
    /// must not make an answer look fresh).
    public let evictions: EvictionWatch?

    public init(redis: RedisClient, evictions: EvictionWatch? = nil) {
        self.redis = redis
        self.evictions = evictions
    }

    public func lookup(_ key: CacheKey) async throws -> StoredLookup {
        lookup(from: try await redis.command(bytes: [Array("MGET".utf8), Array(key.description.utf8), Array(key.writtenKey.utf8)]))
    }

    /// An `MGET` of entry and mark, or the same two values in a script's reply.
    func lookup(from reply: RedisReply) -> StoredLookup {
        let values = reply.array ?? []
        let entry = values.first?.bytes.flatMap(CacheEntry.init(serialized:))
        var written = values.count > 1 ? values[1].string.flatMap { Int64($0) } : nil
        if let floor = evictions?.floor, floor > 0 { written = max(written ?? 0, floor) }
        return StoredLookup(entry: entry, written: written)
    }

    public func store(_ key: CacheKey, _ entry: CacheEntry, expiry: Duration, unlocking token: String?) async throws -> Bool {
        let reply = try await redis.command(bytes: [
            Array("EVAL".utf8), Array(Scripts.storeIfNewer.utf8), Array("2".utf8), Array(key.description.utf8), Array(key.lockKey.utf8),
            entry.serialized, Array(String(entry.snapshot).utf8), Array(String(expiry.milliseconds).utf8), Array((token ?? "").utf8),
        ])
        return reply.int == 1
    }

    public func markWritten(_ entities: [String], at: Int64, expiry: Duration) async throws {
        guard !entities.isEmpty else { return }
        _ = try await redis.command(
            ["EVAL", Scripts.markWritten, String(entities.count)] + entities.map(CacheKey.writtenKey(ofEntity:))
                + [String(at), String(expiry.milliseconds)])
    }

    public func lock(_ key: CacheKey, token: String, ttl: Duration) async throws -> StoredLookup? {
        let reply = try await redis.command([
            "EVAL", Scripts.lockAndLookup, "3", key.lockKey, key.description, key.writtenKey, token, String(ttl.milliseconds),
        ])
        return reply.int == 0 ? nil : lookup(from: reply)
    }

    public func unlock(_ key: CacheKey, token: String) async throws {
        _ = try await redis.command(["EVAL", Scripts.compareAndDelete, "1", key.lockKey, token])
    }

    public func packageRef(_ idOrName: String) async throws -> PackageRef? {
        try await redis.command(["GET", RedisKeyspace.packageRef(idOrName)]).string.flatMap(PackageRef.init(stored:))
    }

    public func rememberPackageRef(_ package: PackageRef, as idOrName: String, expiry: Duration) async throws {
        _ = try await redis.command(["SET", RedisKeyspace.packageRef(idOrName), package.stored, "PX", String(expiry.milliseconds)])
    }

    /// The Lua scripts (run by EVAL; Redis caches them by digest).
    public enum Scripts {
        /// KEYS: entry, its lock; ARGV: serialized entry, its snapshot, expiry in ms, lock token
        /// (empty: none). Keeps the newer snapshot; then releases the lock if it holds the token.
        public static let storeIfNewer = """
            local stored = 1
            local old = redis.call('GET', KEYS[1])
            if old then
              local snapshot = tonumber(string.match(old, '^(%d+)'))
              if snapshot and snapshot > tonumber(ARGV[2]) then stored = 0 end
            end
            if stored == 1 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) end
            if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end
            return stored
            """

        /// KEYS: lock, entry, write mark; ARGV: token, lock time in ms. 0 when another holds the
        /// lock, else the entry and the mark (as `MGET` returns them).
        public static let lockAndLookup = """
            if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
            return redis.call('MGET', KEYS[2], KEYS[3])
            """

        /// KEYS: write marks; ARGV: time in ms, expiry in ms. A mark only moves forward.
        public static let markWritten = """
            for _, key in ipairs(KEYS) do
              local old = tonumber(redis.call('GET', key) or '0')
              if old < tonumber(ARGV[1]) then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', key, ARGV[2]) end
            end
            return #KEYS
            """

        /// Deletes a lock only when it still holds our token.
        public static let compareAndDelete = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
            """
    }
}

/// An in-process store with the same semantics, for unit tests of the cache policy without
/// servers. `failing` makes every call throw, like an unreachable Redis.
public final class InMemoryCacheStore: CacheStore {
    public struct Unavailable: Error {}

    private struct State {
        var entries: [String: CacheEntry] = [:]
        var marks: [String: Int64] = [:]
        var locks: [String: String] = [:]
        var packageRefs: [String: PackageRef] = [:]
        var lockCalls = 0
    }

    private let state = Mutex(State())
    private let failingFlag = Atomic<Bool>(false)

    public init() {}

    public var failing: Bool {
        get { failingFlag.load(ordering: .relaxed) }
        set { failingFlag.store(newValue, ordering: .relaxed) }
    }

    public func entry(_ key: CacheKey) -> CacheEntry? { state.withLock { $0.entries[key.description] } }

    /// How many times a computation asked for a cross-replica lock.
    public var lockCalls: Int { state.withLock { $0.lockCalls } }

    private func check() throws { if failing { throw Unavailable() } }

    public func lookup(_ key: CacheKey) async throws -> StoredLookup {
        try check()
        return state.withLock { StoredLookup(entry: $0.entries[key.description], written: $0.marks[key.entity]) }
    }

    public func store(_ key: CacheKey, _ entry: CacheEntry, expiry: Duration, unlocking token: String?) async throws -> Bool {
        try check()
        return state.withLock { state in
            if let token, state.locks[key.lockKey] == token { state.locks[key.lockKey] = nil }
            if let old = state.entries[key.description], old.snapshot > entry.snapshot { return false }
            state.entries[key.description] = entry
            return true
        }
    }

    public func markWritten(_ entities: [String], at: Int64, expiry: Duration) async throws {
        try check()
        state.withLock { state in
            for entity in entities { state.marks[entity] = max(state.marks[entity] ?? 0, at) }
        }
    }

    public func lock(_ key: CacheKey, token: String, ttl: Duration) async throws -> StoredLookup? {
        try check()
        return state.withLock { state in
            state.lockCalls += 1
            guard state.locks[key.lockKey] == nil else { return nil }
            state.locks[key.lockKey] = token
            return StoredLookup(entry: state.entries[key.description], written: state.marks[key.entity])
        }
    }

    public func unlock(_ key: CacheKey, token: String) async throws {
        try check()
        state.withLock { state in
            if state.locks[key.lockKey] == token { state.locks[key.lockKey] = nil }
        }
    }

    public func packageRef(_ idOrName: String) async throws -> PackageRef? {
        try check()
        return state.withLock { $0.packageRefs[idOrName] }
    }

    public func rememberPackageRef(_ package: PackageRef, as idOrName: String, expiry: Duration) async throws {
        try check()
        state.withLock { $0.packageRefs[idOrName] = package }
    }
}
