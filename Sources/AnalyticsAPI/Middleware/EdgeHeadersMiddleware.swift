import HTTPTypes
import Hummingbird
import NIOCore

/// What every request and response crossing the edge gets, in one place.
///
/// In: the forwarding headers a TLS-terminating proxy sets (`X-Forwarded-Proto`,
/// `X-Forwarded-Host`, `Forwarded`) are dropped unless the peer is one of `TRUSTED_PROXIES`,
/// so that nothing after this reads a scheme or host that a client made up.
///
/// Out: `X-Content-Type-Options: nosniff` on every response; HTML pages also get
/// `Referrer-Policy: no-referrer` (a page's address never leaves in a `Referer`), and a CSP with
/// `frame-ancestors 'none'` (with `X-Frame-Options: DENY` for older browsers) so that no other
/// site can frame a page and have its reader click on it.
struct EdgeHeadersMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    var trustedProxies: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if !trustedProxies.contains(context.remoteAddress?.ipAddress ?? ""),
            EdgeHeaders.forwarding.contains(where: { request.headers[$0] != nil })
        {
            var head = request.head
            for name in EdgeHeaders.forwarding { head.headerFields[name] = nil }
            request = Request(head: head, body: request.body)
        }
        var response = try await next(request, context)
        EdgeHeaders.decorate(&response.headers)
        return response
    }
}

enum EdgeHeaders {
    static let forwarding = ["X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"].map { HTTPField.Name($0)! }
    static let pagePolicy = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'"

    static func decorate(_ headers: inout HTTPFields) {
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        guard headers[.contentType]?.hasPrefix("text/html") == true else { return }
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("Content-Security-Policy")!] = pagePolicy
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
    }
}
