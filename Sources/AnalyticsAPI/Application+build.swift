import Analytics
import AnalyticsCache
import AnalyticsPages
import AnalyticsRuntime
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The request context of the API: the core storage plus the peer's address (rate limits).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are limited per route (64 KiB, ingestion 1 MiB); this is the outer bound.
    public var maxUploadSize: Int { 1024 * 1024 }
}

/// Flushes hot-read counts until graceful shutdown, then once more (one of
/// `AppDependencies.backgroundServices`).
struct HotReadService: Service, CustomStringConvertible {
    let recorder: HotReadRecorder
    var description: String { "HotReadService" }
    func run() async {
        await cancelWhenGracefulShutdown { await recorder.run() }
    }
}

/// Builds the router: middleware first, then the routes.
public func buildRouter(_ dependencies: AppDependencies) async -> Router<AppRequestContext> {
    let config = dependencies.config
    let registry = Observability.bootstrapMetrics()
    let deadline = RequestDeadline(timeout: .milliseconds(config.requestTimeoutMs))
    let reader = CachedAnalytics(
        source: DeadlineBoundReading(source: dependencies.reading, deadline: deadline), cache: dependencies.cache,
        hotReads: dependencies.hotReads, authCacheSeconds: config.authCacheSeconds)
    let authenticator = await Authenticator(secret: config.jwtSecret, queries: dependencies.queries, cacheSeconds: config.authCacheSeconds)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestMiddleware(accessLog: dependencies.accessLog))
    router.add(middleware: EdgeHeadersMiddleware(trustedProxies: config.trustedProxies))
    // The 405 answers come from the routes registered below.
    let routes = RouteTable()
    router.add(middleware: ErrorMiddleware(routes: routes))
    // The per-client limits judge a client the same way.
    let clients = CountedClients(trustedProxies: config.trustedProxies, exempt: config.rateLimitExempt, ingestToken: config.ingestToken)
    if config.rateLimitPerSecond > 0 {
        router.add(
            middleware: RateLimitMiddleware(
                redis: dependencies.redis, breaker: dependencies.breaker, ratePerSecond: config.rateLimitPerSecond,
                burst: config.rateLimitBucket, clients: clients))
    }
    if config.windowBudgetPerMinute > 0 {
        router.add(middleware: WindowBudgetMiddleware(perMinute: config.windowBudgetPerMinute, burst: config.windowBudgetBurst, clients: clients))
    }

    OperationsController(dependencies: dependencies, registry: registry).register(on: router)
    let api = router.group("api/v1/analytics").add(middleware: NulRejectionMiddleware())
    ReadController(reader: reader, authenticator: authenticator).register(on: api)
    let feedback = FeedbackWriter(queries: dependencies.queries, cache: dependencies.cache, deadline: deadline)
    if let renderer = try? PageRenderer() {
        PagesController(
            reader: reader, queries: dependencies.queries, renderer: renderer,
            session: PageSession(authenticator: authenticator, publicBaseURL: config.publicBaseURL),
            feedback: feedback, maxBodyBytes: config.maxBodyBytes
        ).register(on: router)
    } else {
        dependencies.logger.error("page templates missing from the bundle: pages are not served")
    }
    BadgeController(reader: reader).register(on: api)
    WriteController(
        queries: dependencies.queries, cache: dependencies.cache, feedback: feedback, authenticator: authenticator,
        ingestToken: config.ingestToken, maxBodyBytes: config.maxBodyBytes, maxIngestBodyBytes: config.maxIngestBodyBytes, deadline: deadline
    ).register(on: api)
    routes.load(router.routes.map { ($0.path.description, $0.method) })
    return router
}

/// `HEAD` for every `GET` route (RFC 9110 §9.3.2): answered as the GET, with its status and
/// headers and without its body (`Content-Length` still says how long it is). Outside the
/// router, whose routes are matched by method.
struct HeadAsGetResponder<Responder: HTTPResponder>: HTTPResponder {
    let responder: Responder

    func respond(to request: Request, context: Responder.Context) async throws -> Response {
        guard request.method == .head else { return try await responder.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await responder.respond(to: Request(head: head, body: request.body), context: context)
        // A body that declares the GET's length and writes nothing.
        let length = response.body.contentLength
        response.body = ResponseBody(contentLength: length) { writer in try await writer.finish(nil) }
        return response
    }
}

/// The HTTP application of `prpm-analytics serve` (its background services, which `serve` runs
/// in the same service group, are `AppDependencies.backgroundServices`).
public func buildApplication(_ dependencies: AppDependencies) async throws -> some ApplicationProtocol {
    let router = await buildRouter(dependencies)
    let config = dependencies.config
    var limits = config.connections
    limits.exempt = AddressRanges(ranges: config.rateLimitExempt.ranges + config.trustedProxies.compactMap(AddressRange.init))
    return Application(
        responder: HeadAsGetResponder(responder: router.buildResponder()),
        server: GuardedHTTPServer.builder(limits, logger: dependencies.logger),
        configuration: .init(address: .hostname(dependencies.config.host, port: dependencies.config.port), serverName: "prpm-analytics"),
        logger: dependencies.logger)
}
