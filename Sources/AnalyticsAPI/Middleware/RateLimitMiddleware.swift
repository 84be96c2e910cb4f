import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Redis

/// Per-client token bucket shared by every replica through Redis (one EVAL per request), on
/// by default (`RATE_LIMIT_RPS`, `RATE_LIMIT_BURST`). Every route but `/healthz` counts, pages
/// included. A client is its address (an IPv6 one by its /64); behind a load balancer, the
/// address in `X-Forwarded-For` of one of `TRUSTED_PROXIES` (anyone else could name any
/// address there). Not counted: peers in `RATE_LIMIT_EXEMPT` (this machine by default: a load
/// test or a local monitor), requests without a peer address, and the ingestion token (a
/// collector sends from few addresses on behalf of many users).
///
/// A bucket of the same size in this process answers first: a client over its limit here is
/// over it across replicas too, so it is refused without a Redis round trip (a flood costs no
/// Redis work), and it stays limited while Redis is down. The shared bucket decides the rest;
/// when Redis is down or slow (circuit breaker open) it lets them through.
struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let redis: RedisClient
    let breaker: CircuitBreaker
    let ratePerSecond: Double
    let burst: Double
    let clients: CountedClients
    let local: ClientBuckets

    init(redis: RedisClient, breaker: CircuitBreaker, ratePerSecond: Double, burst: Double, clients: CountedClients) {
        self.redis = redis
        self.breaker = breaker
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.clients = clients
        local = ClientBuckets(perSecond: ratePerSecond, burst: burst, name: "rate_limit_buckets")
    }

    static var script: String {
        """
        local rate = tonumber(ARGV[1]); local burst = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 't', 'ts')
        local tokens = tonumber(state[1]) or burst
        local ts = tonumber(state[2]) or now
        tokens = math.min(burst, tokens + math.max(0, now - ts) / 1000 * rate)
        local allowed = 0
        local retry = 0
        if tokens >= 1 then tokens = tokens - 1; allowed = 1 else retry = math.ceil((1 - tokens) / rate) end
        redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
        return {allowed, retry}
        """
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path != "/healthz", let client = clients.key(request, peer: context.remoteAddress) else {
            return try await next(request, context)
        }
        if let wait = local.take(client) { throw Self.limited(retryAfter: wait) }
        let now = Int(Date().timeIntervalSince1970 * 1000)
        // Fails open: without an answer from Redis the request goes through.
        let outcome = await breaker.call {
            try await redis.command(
                "EVAL", Self.script, "1", RedisKeyspace.rateLimit(client: client), String(ratePerSecond), String(burst), String(now))
        }
        if case .success(let reply)? = outcome, let values = reply.array, values.count == 2, values[0].int == 0 {
            throw Self.limited(retryAfter: values[1].int ?? 1)
        }
        return try await next(request, context)
    }

    static func limited(retryAfter seconds: Int) -> APIError {
        Counter(label: "prpm_rate_limited_total").increment()
        return APIError(.tooManyRequests, code: "rate_limited", message: "too many requests", headers: [.retryAfter: String(max(1, seconds))])
    }
}
