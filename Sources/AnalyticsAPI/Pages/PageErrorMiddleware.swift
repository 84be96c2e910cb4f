import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird

/// Errors of the pages as pages: the mapping of `APIError.from` (the one place errors become
/// statuses, `APIError.answering`), rendered as HTML. A 401 shows the login form, which brings the reader back.
struct PageErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let renderer: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError.answering(error, logger: context.logger)
            var headers = apiError.headers
            headers[.wwwAuthenticate] = nil
            if apiError.status == .unauthorized {
                let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                let page = LoginPage(next: PageSession.localPath(here), error: Self.loginMessage(request, apiError))
                return Responses.html(renderer.render(page, page: "login"), status: .unauthorized, headers: headers)
            }
            let page = ErrorPage(status: Int(apiError.status.code), heading: Self.heading(apiError.status), message: Self.sentence(apiError.message))
            return Responses.html(renderer.render(page, page: "error"), status: apiError.status, headers: headers)
        }
    }

    /// A reader who sent no credentials just needs to sign in; anyone else learns why they were refused.
    static func loginMessage(_ request: Request, _ error: APIError) -> String? {
        request.headers[.authorization] == nil && request.cookies[PageSession.cookieName] == nil ? nil : sentence(error.message)
    }

    static func heading(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "Not found"
        case .forbidden: "Not allowed"
        case .badRequest, .unprocessableContent: "That did not work"
        case .serviceUnavailable: "Back in a moment"
        default: status.code >= 500 ? "Something went wrong" : status.reasonPhrase
        }
    }

    /// "no such package" → "No such package."
    static func sentence(_ message: String) -> String {
        guard let first = message.first else { return message }
        return first.uppercased() + message.dropFirst() + (message.hasSuffix(".") ? "" : ".")
    }
}
