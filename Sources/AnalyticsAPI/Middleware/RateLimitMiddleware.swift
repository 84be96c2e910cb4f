import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Redis

/// Per-client-IP token bucket shared by every replica through Redis (one EVAL per request).
/// Fails open: when Redis is down or slow (circuit breaker open) requests are let through.
/// Behind a load balancer the client is taken from `X-Forwarded-For`, but only when the peer
/// is one of `TRUSTED_PROXIES` (anyone else could name any address there).
struct RateLimitMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let redis: RedisClient
    let breaker: CircuitBreaker
    let ratePerSecond: Double
    let burst: Double
    var trustedProxies: Set<String> = []

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
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        let client = Self.clientKey(
            context.remoteAddress, forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trustedProxies: trustedProxies)
        let now = Int(Date().timeIntervalSince1970 * 1000)
        // Fails open: without an answer from Redis the request goes through.
        let outcome = await breaker.call {
            try await redis.command(
                "EVAL", Self.script, "1", RedisKeyspace.rateLimit(client: client), String(ratePerSecond), String(burst), String(now))
        }
        if case .success(let reply)? = outcome, let values = reply.array, values.count == 2, values[0].int == 0 {
            Counter(label: "prpm_rate_limited_total").increment()
            throw APIError(
                .tooManyRequests, code: "rate_limited", message: "too many requests", headers: [.retryAfter: String(max(1, values[1].int ?? 1))])
        }
        return try await next(request, context)
    }

    /// The peer's address; for a trusted proxy's request, the nearest address in
    /// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends its peer).
    static func clientKey(_ address: SocketAddress?, forwardedFor: String? = nil, trustedProxies: Set<String> = []) -> String {
        let peer = address?.ipAddress ?? "unknown"
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return hops.last { !trustedProxies.contains($0) } ?? hops.first ?? peer
    }
}
