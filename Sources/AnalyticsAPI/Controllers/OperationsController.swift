import Analytics
import AnalyticsCache
import AnalyticsRuntime
import ConnectionPool
import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import Postgres
import Prometheus
import Redis

/// /healthz, /readyz, /metrics, /openapi.json.
struct OperationsController<Context: RemoteAddressRequestContext> {
    let dependencies: AppDependencies
    let registry: PrometheusCollectorRegistry
    /// Postgres and Redis as last checked: `/readyz` floods cost one check a second.
    let probe: CachedProbe<Connectivity>

    init(dependencies: AppDependencies, registry: PrometheusCollectorRegistry) {
        self.dependencies = dependencies
        self.registry = registry
        probe = CachedProbe(maxAge: .seconds(1)) { [dependencies] in
            async let postgres = Self.postgresReachable(dependencies)
            async let redis = (try? await dependencies.redis.command("PING")) == .status("PONG")
            return Connectivity(postgres: await postgres, redis: await redis)
        }
    }

    /// Whether Postgres answers. A full pool that sheds the check (`PoolError.overloaded`) is a
    /// busy database, not a missing one: the replica stays ready (a balancer taking every busy
    /// replica out would turn load into an outage).
    static func postgresReachable(_ dependencies: AppDependencies) async -> Bool {
        do {
            _ = try await dependencies.postgres.query("SELECT 1 AS one")
            return true
        } catch PoolError.overloaded {
            return true
        } catch {
            return false
        }
    }

    struct Connectivity: Sendable {
        let postgres: Bool
        let redis: Bool
    }

    func register(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
        }
        router.get("readyz", use: ready)
        router.get("metrics") { [registry, dependencies] request, context in
            try Self.authorizeMetrics(request, context: context, config: dependencies.config)
            Self.recordPoolGauges(dependencies)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16_384)
            registry.emit(into: &buffer)
            buffer.append(contentsOf: Array(Self.trafficCounters().utf8))
            buffer.append(contentsOf: Array((ProcessMetrics.current()?.prometheusText() ?? "").utf8))
            buffer.append(contentsOf: Array(InProcessSizes.shared.prometheusText(extra: Self.otherStructures()).utf8))
            let hashes = await dependencies.breaker.call {
                try await dependencies.redis.pipeline([["HGETALL", WorkerMetrics.key], ["HGETALL", RedisKeyspace.workerProcesses]])
            }
            if case .success(let replies)? = hashes, replies.count == 2 {
                buffer.append(contentsOf: Array(WorkerMetrics.render(WorkerMetrics.fields(replies[0])).utf8))
                buffer.append(contentsOf: Array(await WorkerProcesses.render(WorkerMetrics.fields(replies[1]), redis: dependencies.redis).utf8))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
    }

    struct Readiness: Encodable {
        let status: String
        let postgres: String
        let redis: String
        let circuitBreaker: String
        let degraded: Bool
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        if dependencies.drain.isDraining {
            let readiness = Readiness(
                status: "draining", postgres: "-", redis: "-", circuitBreaker: dependencies.breaker.state.rawValue, degraded: false)
            return try Responses.json(readiness, status: .serviceUnavailable)
        }
        let connectivity = await probe.value()
        let (postgresUp, redisUp) = (connectivity.postgres, connectivity.redis)
        let readiness = Readiness(
            status: postgresUp ? "ready" : "unavailable", postgres: postgresUp ? "up" : "down", redis: redisUp ? "up" : "down",
            circuitBreaker: dependencies.breaker.state.rawValue, degraded: !redisUp || dependencies.breaker.state != .closed)
        return try Responses.json(readiness, status: postgresUp ? .ok : .serviceUnavailable)
    }

    /// `/metrics` tells the load, the cache's keys and the worker's figures: it answers this
    /// machine, and anyone else only with `METRICS_TOKEN` (403 when no token is set, 401 for a
    /// wrong one). The client is judged as the rate limit does (through `TRUSTED_PROXIES`).
    static func authorizeMetrics(_ request: Request, context: Context, config: AppConfig) throws {
        let client = ClientAddress.resolve(
            context.remoteAddress, forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trustedProxies: config.trustedProxies)
        if let client, let ip = IPAddress(client), AddressRanges.loopback.contains(ip) { return }
        if context.remoteAddress == nil { return }  // in-process (tests): no network peer
        if BearerToken.matches(request.headers[.authorization], config.metricsToken) { return }
        guard !config.metricsToken.isEmpty else {
            throw APIError(.forbidden, code: "forbidden", message: "metrics are served to this machine only (set METRICS_TOKEN)")
        }
        throw APIError.unauthorized("metrics need Authorization: Bearer <METRICS_TOKEN>")
    }

    /// What this process sent to Postgres and Redis since it started (Prometheus counters).
    static func trafficCounters() -> String {
        let counters = [
            ("prpm_postgres_statements_total", "Statements sent to Postgres.", PostgresStatistics.statements.load(ordering: .relaxed)),
            ("prpm_redis_commands_total", "Commands sent to Redis.", RedisStatistics.commands.load(ordering: .relaxed)),
            ("prpm_redis_round_trips_total", "Round trips to Redis (a pipeline is one).", RedisStatistics.roundTrips.load(ordering: .relaxed)),
        ]
        return counters.map { "# HELP \($0.0) \($0.1)\n# TYPE \($0.0) counter\n\($0.0) \($0.2)\n" }.joined()
    }

    /// Structures of the lower layers, which do not register themselves.
    static func otherStructures() -> [String: StructureSize] {
        ["timers": StructureSize(entries: TimerWheel.shared.pending), "request_instruments": StructureSize(entries: RequestInstruments.shared.count)]
    }

    static func recordPoolGauges(_ dependencies: AppDependencies) {
        let postgres = dependencies.postgres.pool.stats
        Metrics.Gauge(label: "prpm_pool_connections", dimensions: [("pool", "postgres"), ("state", "open")]).record(postgres.open)
        Metrics.Gauge(label: "prpm_pool_connections", dimensions: [("pool", "postgres"), ("state", "idle")]).record(postgres.idle)
        Metrics.Gauge(label: "prpm_pool_waiters", dimensions: [("pool", "postgres")]).record(postgres.waiting)
        // Redis connections are multiplexed (one per event loop): open is all there is to say.
        Metrics.Gauge(label: "prpm_pool_connections", dimensions: [("pool", "redis"), ("state", "open")]).record(dependencies.redis.openConnections)
    }
}
