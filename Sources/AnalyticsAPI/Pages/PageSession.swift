import Foundation
import HTTPTypes
import Hummingbird

/// Who reads a personal page: the registry JWT from `Authorization: Bearer`, else from the
/// HttpOnly cookie `prpm_token` set by `/login` (or by `?token=` once, which is then dropped
/// from the address). Every check is the API's (`Authenticator`).
struct PageSession: Sendable {
    static let cookieName = "prpm_token"
    let authenticator: Authenticator

    /// The signed-in user, or a 401 `APIError` (shown as the login form).
    func user(_ request: Request) async throws -> UUID {
        guard let token = Authenticator.bearerToken(request) ?? request.cookies[Self.cookieName]?.value, !token.isEmpty else {
            throw APIError.unauthorized("sign in to see this page")
        }
        return try await authenticator.session(token: token).userId
    }

    /// For `?token=` on a personal page: verifies it, keeps it in the cookie and sends the
    /// browser to the same page without it (so the token leaves the address bar and history).
    func signInFromQuery(_ request: Request) async throws -> Response? {
        guard let token = request.uri.queryParameters.get("token") else { return nil }
        var rest = request.uri.queryParameters.filter { $0.key != "token" }.map { "\($0.key)=\($0.value)" }
        rest.sort()
        return try await signIn(token: token, next: request.uri.path + (rest.isEmpty ? "" : "?" + rest.joined(separator: "&")), request: request)
    }

    /// Verifies `token`, sets the cookie until the token expires and redirects to `next`.
    func signIn(token: String, next: String, request: Request) async throws -> Response {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        let session = try await authenticator.session(token: trimmed)
        let seconds = max(1, Int(session.expires.timeIntervalSinceNow.rounded(.down)))
        let cookie = try Cookie.validated(
            name: Self.cookieName, value: trimmed, maxAge: seconds, path: "/", secure: Self.isHTTPS(request), httpOnly: true,
            sameSite: .strict)
        var response = Responses.redirect(to: Self.localPath(next))
        response.setCookie(cookie)
        return response
    }

    /// Clears the cookie.
    func signOut(_ request: Request) -> Response {
        var response = Responses.redirect(to: "/")
        response.setCookie(
            Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: Self.isHTTPS(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// A path of this site to go on to after signing in; anything else (another host, `//x`,
    /// a scheme) becomes `/me`.
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/me" }
        return next
    }

    /// The cookie is `Secure` behind a TLS-terminating proxy (`X-Forwarded-Proto: https`).
    static func isHTTPS(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// Form posts must come from this site's own pages: a browser's `Origin` (or
    /// `Sec-Fetch-Site`) naming another site is refused (with the SameSite=Strict cookie, this
    /// keeps other sites from posting feedback or logging someone in).
    static func requireSameOrigin(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            throw APIError(.forbidden, code: "cross_site", message: "forms of this site can only be sent from its own pages")
        }
        // `Origin: null` (a sandboxed frame, a page of another site opened as data) is not ours either.
        if let origin = request.headers[HTTPField.Name("Origin")!] {
            let host = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
            guard host != nil, host == request.head.authority else {
                throw APIError(.forbidden, code: "cross_site", message: "forms of this site can only be sent from its own pages")
            }
        }
    }
}
