import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix

/// POST feedback (authenticated) and usage ingestion (ingest token). Both mark the entities
/// their rows feed before answering: the writers' own `user/me` shows the write on the next
/// read, shared answers within `CACHE_PUBLIC_LAG_S`.
///
/// The request deadline bounds only the wait for a Postgres connection (503 `timeout`, nothing
/// written). A statement once sent is awaited to its outcome: a committed write is answered
/// as such, and its cache marks are always recorded.
struct WriteController<Context: RequestContext> {
    let queries: AnalyticsQueries
    let cache: ResponseCache
    let feedback: FeedbackWriter
    let authenticator: Authenticator
    let ingestToken: String
    let maxBodyBytes: Int
    let maxIngestBodyBytes: Int
    let deadline: RequestDeadline

    func register(on router: RouterGroup<Context>) {
        router.post("feedback", use: feedback)
        router.post("usage", use: ingest)
    }

    @Sendable func feedback(_ request: Request, context: Context) async throws -> Response {
        let userId = try await authenticator.userId(from: request)
        var request = request
        let input = try FeedbackInput.parse(try await request.jsonBody(limit: maxBodyBytes))
        return try Responses.json(try await feedback.submit(input, userId: userId))
    }

    @Sendable func ingest(_ request: Request, context: Context) async throws -> Response {
        guard BearerToken.matches(request.headers[.authorization], ingestToken) else { throw APIError.unauthorized("invalid ingest token") }
        var request = request
        let body = try await request.jsonBody(limit: maxIngestBodyBytes)
        let events = try await Self.parse(body)
        let idempotency = try Self.idempotency(request.headers[HTTPField.Name("Idempotency-Key")!], body: body)
        let (ids, affected, inserted) = try await deadline.waitingForConnection {
            try await queries.ingest(events, idempotency: idempotency, waitAtMost: $0)
        }
        if inserted { await cache.recordWrite(affected) }
        return try Responses.json(IngestResult(ids: ids), status: .created)
    }

    /// Bodies up to 64 KiB are parsed on the event loop; larger ones on NIO's blocking-work pool
    /// (a 1 MiB batch takes about 26 ms to parse and validate, docs/performance.md, which would
    /// hold up every other connection of the loop meanwhile).
    static func parse(_ body: [UInt8]) async throws -> [UsageEvent] {
        guard body.count > 64 * 1024 else { return try UsageBatch.parse(body) }
        return try await NIOThreadPool.singleton.runIfActive { try UsageBatch.parse(body) }
    }

    /// `Idempotency-Key`: 1 to 255 visible ASCII characters (as the IETF draft's examples).
    static func idempotency(_ header: String?, body: [UInt8]) throws -> AnalyticsQueries.Idempotency? {
        guard let header else { return nil }
        guard (1...255).contains(header.utf8.count), header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters", code: "bad_idempotency_key")
        }
        return AnalyticsQueries.Idempotency(key: header, body: String(decoding: body, as: UTF8.self))
    }
}
