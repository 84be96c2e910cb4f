import Hummingbird

/// The one rule that refuses a NUL in any text a request carries, before any route sees it:
/// in the path it names nothing (404), in the query it is a bad parameter (400). Registered on
/// the API's group and on the pages' group (inside their error pages, so a page answers HTML). Postgres'
/// C client ends a string at a NUL, so `code-reviewer%00junk` used to be looked up, answered and
/// cached as `code-reviewer`. (Bodies are parsed by the JSON and form readers, which refuse
/// control characters where the fields do.)
struct NulRejectionMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.hasNul(request.uri.path) { throw APIError.notFound("no such resource") }
        if let query = request.uri.query, Self.hasNul(query) {
            throw APIError.badRequest("a parameter contains a NUL character", code: "invalid_parameter")
        }
        return try await next(request, context)
    }

    /// A NUL, raw or percent-encoded (only `%00` decodes to one).
    static func hasNul(_ text: String) -> Bool {
        var utf8 = text.utf8.makeIterator()
        var state = 0  // 1: after '%', 2: after '%0'
        while let byte = utf8.next() {
            if byte == 0 { return true }
            switch (state, byte) {
            case (_, UInt8(ascii: "%")): state = 1
            case (1, UInt8(ascii: "0")): state = 2
            case (2, UInt8(ascii: "0")): return true
            default: state = 0
            }
        }
        return false
    }
}
