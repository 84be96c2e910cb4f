import Foundation
import Logging
import NIOPosix
import Redis
import Synchronization

/// A small in-process copy of the hottest fresh entries, kept for at most `ttl` (1 s by
/// default) and never past the entry's own TTL, so the hottest keys skip the Redis round
/// trip. Writes remove the keys they feed here at once and, through Redis pub/sub, in every
/// other replica (`InvalidationSubscriber`).
public final class NearCache: Sendable {
    private struct Item {
        let entry: CacheEntry
        let expires: ContinuousClock.Instant
    }

    public let ttl: Duration
    public let capacity: Int
    private let items = Mutex<[String: Item]>([:])

    public init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    public var isEnabled: Bool { ttl > .zero }

    public func get(_ key: String) -> CacheEntry? {
        guard isEnabled else { return nil }
        return items.withLock { items in
            guard let item = items[key] else { return nil }
            guard item.expires > .now else {
                items[key] = nil
                return nil
            }
            return item.entry
        }
    }

    /// Keeps a fresh entry for `min(ttl, what is left of its cache TTL)`.
    public func put(_ key: String, _ entry: CacheEntry, remaining: TimeInterval) {
        guard isEnabled, remaining > 0 else { return }
        let keep = min(ttl, .milliseconds(Int(remaining * 1000)))
        items.withLock { items in
            if items.count >= capacity { items.removeAll(keepingCapacity: true) }
            items[key] = Item(entry: entry, expires: .now + keep)
        }
    }

    public func remove(_ keys: [String]) {
        guard isEnabled else { return }
        items.withLock { items in for key in keys { items[key] = nil } }
    }

    /// Drops every `days` variant of the entities (`package:<uuid>`, `user:<uuid>`, …).
    public func remove(entities: [String]) {
        guard isEnabled, !entities.isEmpty else { return }
        let prefixes = entities.map(CacheKey.prefix(ofEntity:))
        items.withLock { items in
            for key in items.keys where prefixes.contains(where: { key.hasPrefix($0) }) { items[key] = nil }
        }
    }

    public func removeAll() { items.withLock { $0.removeAll() } }

    /// The pub/sub channel on which invalidated keys are announced.
    public static let channel = "analytics:v1:invalidate"
}

/// Listens on the invalidation channel on a dedicated connection and thread, and removes
/// the announced keys from this replica's near cache. Whenever the subscription is
/// (re)established the near cache is emptied: announcements may have been missed meanwhile.
public final class InvalidationSubscriber: Sendable {
    let configuration: RedisConfiguration
    let near: NearCache
    let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let thread: NIOThreadPool

    public init(configuration: RedisConfiguration, near: NearCache, logger: Logger) {
        var configuration = configuration
        configuration.commandTimeout = .seconds(2)
        self.configuration = configuration
        self.near = near
        self.logger = logger
        self.thread = NIOThreadPool(numberOfThreads: 1)
    }

    /// Runs until `stop()`; blocking reads happen on the subscriber's own thread.
    public func run() async {
        guard near.isEnabled else { return }
        thread.start()
        defer { Task { [thread] in try? await thread.shutdownGracefully() } }
        _ = try? await thread.runIfActive { [self] in
            while !stopped.load(ordering: .relaxed) {
                do {
                    let connection = try RedisConnection(configuration: configuration)
                    defer { connection.close() }
                    _ = try connection.pipeline([[Array("SUBSCRIBE".utf8), Array(NearCache.channel.utf8)]])
                    near.removeAll()
                    while !stopped.load(ordering: .relaxed) {
                        let message = try connection.readReply()
                        if let parts = message.array, parts.count == 3, parts[0].string == "message", let entities = parts[2].string {
                            near.remove(entities: entities.split(separator: " ").map(String.init))
                        }
                    }
                } catch {
                    // A read timeout (no traffic) or a lost connection: resubscribe.
                    near.removeAll()
                    if !stopped.load(ordering: .relaxed) { usleep(100_000) }
                }
            }
        }
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }
}
