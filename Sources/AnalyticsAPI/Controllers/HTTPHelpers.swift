import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let xCache = HTTPField.Name("X-Cache")!
    static let xRequestId = HTTPField.Name("X-Request-Id")!
}

/// Whether a response may be kept by shared caches.
enum Visibility {
    case publicData
    case privateData
}

extension Request {
    /// `days` of a read endpoint (1…365, default 30), or 400.
    func days() throws -> Int {
        guard let days = AnalyticsWindow.parseDays(uri.queryParameters.get("days")) else { throw APIError.invalidDays }
        return days
    }

    /// `month` of the monthly report (`YYYY-MM`, default the last complete UTC month), or 400
    /// (`ReportMonth.Problem`, mapped by `APIError.from`).
    func reportMonth() throws(ReportMonth.Problem) -> ReportMonth {
        try ReportMonth.parse(uri.queryParameters.get("month").map { String($0) })
    }

    /// The body, at most `limit` bytes (413 beyond), which must be JSON (415 otherwise).
    mutating func jsonBody(limit: Int) async throws -> [UInt8] {
        try await collectBody(limit: limit, mediaType: "application/json")
    }

    /// The body, at most `limit` bytes (413 beyond), which must be of `mediaType` (415 otherwise).
    mutating func collectBody(limit: Int, mediaType: String) async throws -> [UInt8] {
        let contentType = headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix(mediaType) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Content-Type must be \(mediaType)")
        }
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "the request body is larger than \(limit) bytes")
        }
        let buffer = try await body.collect(upTo: limit)
        return Array(buffer.readableBytesView)
    }
}

extension CachedResponse {
    /// The stored answer decoded (pages and exports render from it).
    func decoded<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(entry.body)) }
}

enum Responses {
    /// A cached read: the stored bytes as they are, with X-Cache, ETag, Cache-Control and Age;
    /// 304 when the client's `If-None-Match` matches (public data only).
    static func cached(_ cached: CachedResponse, request: Request, visibility: Visibility) -> Response {
        cachedBody(
            cached.entry.body, etag: cached.entry.etag, status: cached.status, freshness: cached.httpFreshness(),
            contentType: "application/json; charset=utf-8",
            request: request, visibility: visibility)
    }

    /// `body` is produced only when it is sent (not for a 304). Public responses carry what
    /// shared caches and CDNs need (RFC 9111, RFC 5861): `Cache-Control: public, max-age,
    /// s-maxage, stale-while-revalidate, stale-if-error`, `Age` and a strong `ETag`; a matching
    /// `If-None-Match` gets 304 (also for a 404 badge: it has a representation and an ETag).
    static func cachedBody(
        _ body: @autoclosure () throws -> [UInt8], etag: String, status: CacheStatus, freshness: HTTPFreshness, contentType: String,
        request: Request, visibility: Visibility, httpStatus: HTTPResponse.Status = .ok
    ) rethrows -> Response {
        var headers: HTTPFields = [.xCache: status.rawValue]
        switch visibility {
        case .publicData:
            headers[.cacheControl] = freshness.cacheControl
            headers[.age] = String(freshness.age)
            headers[.eTag] = etag
            if httpStatus == .ok || httpStatus == .notFound, ETag.matches(ifNoneMatch: request.headers[.ifNoneMatch], etag: etag) {
                return Response(status: .notModified, headers: headers)
            }
        case .privateData:
            headers[.cacheControl] = "private, no-store"
        }
        headers[.contentType] = contentType
        return Response(status: httpStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try body())))
    }

    static let htmlContentType = "text/html; charset=utf-8"

    /// A personal or error page: never stored by any cache.
    static func html(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = htmlContentType
        headers[.cacheControl] = "private, no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `303 See Other` to a path of this site (after a form post or a login).
    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let body = try ResponseEncoding.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "private, no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension Parameters {
    /// The `orgId` path parameter. An id that is not a UUID names no organization: 403 like any
    /// other (existence is not revealed).
    func organizationId() throws -> UUID {
        guard let orgId = UUID(uuidString: try require("orgId")) else { throw APIError.forbidden }
        return orgId
    }

    /// A path parameter with its percent-encoding removed: Hummingbird hands path parameters
    /// over as they were sent, so `@scope%2Fname` or `my%20prompt` would name no package.
    /// A parameter that is not valid percent-encoding is taken as sent.
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
