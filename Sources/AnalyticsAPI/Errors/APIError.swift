import Analytics
import AnalyticsCache
import ConnectionPool
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Postgres

/// Every error the API answers with: `{"error": {"code", "message"}}` and a correct status.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        let body = ErrorBody(error: .init(code: code, message: message))
        let data = (try? JSONEncoder().encode(body)) ?? Data("{\"error\":{\"code\":\"internal\",\"message\":\"\"}}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    // Common errors.
    static func badRequest(_ message: String, code: String = "bad_request") -> APIError { APIError(.badRequest, code: code, message: message) }
    static func unprocessable(_ message: String) -> APIError { APIError(.unprocessableContent, code: "validation_failed", message: message) }
    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    static let forbidden = APIError(.forbidden, code: "forbidden", message: "you may not read this organization's analytics")
    static func notFound(_ message: String) -> APIError { APIError(.notFound, code: "not_found", message: message) }
    /// 422 naming the field (and the event's index in an ingestion batch), also in the
    /// `X-Error-Field` / `X-Error-Index` headers.
    static func unprocessable(field: String, index: Int?, _ reason: String, code: String = "validation_failed") -> APIError {
        let prefix = index.map { "events[\($0)]." } ?? ""
        var apiError = APIError(.unprocessableContent, code: code, message: "\(prefix)\(field) \(reason)")
        if let index { apiError.headers[HTTPField.Name("X-Error-Index")!] = String(index) }
        apiError.headers[HTTPField.Name("X-Error-Field")!] = field
        return apiError
    }
    static let invalidDays = APIError.badRequest("days must be an integer from 1 to 365", code: "invalid_days")
}

extension APIError {
    /// `from(error)`, with server-side failures (5xx) logged: what both error middlewares
    /// (JSON and pages) answer with.
    static func answering(_ error: any Error, logger: Logger) -> APIError {
        let apiError = from(error)
        if apiError.status.code >= 500 {
            logger.error("request failed", metadata: ["error": "\(error)", "status": "\(apiError.status.code)"])
        }
        return apiError
    }

    /// The one place where errors of the lower layers become HTTP answers.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as AnalyticsError:
            switch error {
            case .packageNotFound: return .notFound("no such package")
            case .usageNotFound: return .notFound("no such usage row of yours")
            case .organizationForbidden: return .forbidden
            case .invalidField(let field, let reason, let index):
                return .unprocessable(field: field, index: index, reason)
            case .feedbackExpired(let field, let index):
                return .unprocessable(
                    field: field, index: index,
                    "text is not accepted on a run older than \(RetentionRules.feedbackTextMonths) months (its retention); a rating or wasHelpful alone is",
                    code: "feedback_expired")
            case .databaseUnavailable:
                Counter(label: "prpm_postgres_errors_total").increment()
                return APIError(.serviceUnavailable, code: "unavailable", message: "the database is unavailable", headers: [.retryAfter: "5"])
            case .timedOut:
                return APIError(.serviceUnavailable, code: "timeout", message: "the request took too long", headers: [.retryAfter: "1"])
            }
        case PoolError.overloaded:
            Counter(label: "prpm_shed_total").increment()
            return APIError(.serviceUnavailable, code: "overloaded", message: "too many requests wait for the database", headers: [.retryAfter: "1"])
        case let error as ReportMonth.Problem:
            switch error {
            case .malformed:
                return .badRequest("month must be YYYY-MM (a month from 2000-01 on)", code: "invalid_month")
            case .notStarted:
                return .badRequest("month has not started yet (UTC)", code: "month_not_started")
            }
        case let error as FeedbackInput.Problem:
            switch error {
            case .malformed(let message): return .badRequest(message, code: "malformed_body")
            case .invalid(let field, let reason): return .unprocessable("\(field) \(reason)")
            }
        case let error as UsageBatch.Problem:
            switch error {
            case .malformed(let message): return .badRequest(message, code: "malformed_body")
            case .invalid(let index, let field, let reason): return from(AnalyticsError.invalidField(field: field, reason: reason, index: index))
            case .feedbackExpired(let index): return from(AnalyticsError.feedbackExpired(field: "userFeedback", index: index))
            }
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge: return APIError(.contentTooLarge, code: "body_too_large", message: "the request body is too large")
            case .notFound: return .notFound("no such route")
            default: return APIError(error.status, code: "http_error", message: error.body ?? error.status.reasonPhrase)
            }
        default:
            if ResponseCache.isDatabaseOutage(error) { return from(AnalyticsError.databaseUnavailable("\(error)")) }
            return APIError(.internalServerError, code: "internal", message: "internal error")
        }
    }
}
