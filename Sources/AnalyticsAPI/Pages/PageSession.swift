import Foundation
import HTTPTypes
import Hummingbird

/// Who reads a personal page: the registry JWT from `Authorization: Bearer`, else from the
/// HttpOnly cookie `prpm_token` set by `/login` (or by `?token=` once, which is then dropped
/// from the address). Every check is the API's (`Authenticator`).
///
/// A `?token=` is taken only from a navigation the reader made on this site or typed
/// (`Sec-Fetch-Site: none` or `same-origin`): a link or a frame of another site that carries
/// someone's token cannot sign the reader in as that someone (login CSRF). Elsewhere the token
/// is only dropped from the address.
struct PageSession: Sendable {
    static let cookieName = "prpm_token"
    let authenticator: Authenticator
    /// `PUBLIC_BASE_URL` (nil: relative links).
    var publicBaseURL: String?

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
        let next = request.uri.path + (rest.isEmpty ? "" : "?" + rest.joined(separator: "&"))
        return try await signInFromLink(token: String(token), next: next, request: request)
    }

    /// A token given in an address (`?token=`): signs in from a direct or same-origin navigation
    /// only; otherwise goes on to `next` without it, signed in or not as before.
    func signInFromLink(token: String, next: String, request: Request) async throws -> Response {
        guard Self.isDirectNavigation(request) else { return Responses.redirect(to: Self.localPath(next)) }
        return try await signIn(token: token, next: next, request: request)
    }

    /// The browser says the reader typed the address or followed a link of this site. Without
    /// `Sec-Fetch-Site` (an old browser, a script) this cannot be told, and it counts as not.
    static func isDirectNavigation(_ request: Request) -> Bool {
        guard let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] else { return false }
        return site == "none" || site == "same-origin"
    }

    /// Verifies `token`, sets the cookie until the token expires and redirects to `next`.
    func signIn(token: String, next: String, request: Request) async throws -> Response {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        let session = try await authenticator.session(token: trimmed)
        let seconds = max(1, Int(session.expires.timeIntervalSinceNow.rounded(.down)))
        let cookie = try Cookie.validated(
            name: Self.cookieName, value: trimmed, maxAge: seconds, path: "/", secure: isHTTPS(request), httpOnly: true,
            sameSite: .strict)
        var response = Responses.redirect(to: Self.localPath(next))
        response.setCookie(cookie)
        return response
    }

    /// Clears the cookie.
    func signOut(_ request: Request) -> Response {
        var response = Responses.redirect(to: "/")
        response.setCookie(
            Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: isHTTPS(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// A path of this site to go on to after signing in; anything else (another host, `//x`,
    /// a scheme) becomes `/me`. A `token` in its query is dropped (it would stay in the address).
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/me" }
        guard let question = next.firstIndex(of: "?") else { return next }
        let kept = next[next.index(after: question)...].split(separator: "&").filter { !$0.hasPrefix("token=") && $0 != "token" }
        return String(next[..<question]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// The cookie is `Secure` behind a TLS-terminating proxy (`X-Forwarded-Proto: https`, which
    /// `EdgeHeadersMiddleware` keeps only from `TRUSTED_PROXIES`) or with an https `PUBLIC_BASE_URL`.
    func isHTTPS(_ request: Request) -> Bool {
        publicBaseURL?.hasPrefix("https://") == true || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// Form posts must come from this site's own pages: a browser's `Sec-Fetch-Site` (or, from a
    /// browser that does not send it, `Origin`) naming another site is refused (with the
    /// SameSite=Strict cookie, this keeps other sites from posting feedback or logging someone
    /// in). `Sec-Fetch-Site` decides when present: under the pages' `Referrer-Policy:
    /// no-referrer` a browser sends `Origin: null` with its own same-origin form posts.
    static func requireSameOrigin(_ request: Request) throws {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!] {
            guard ["same-origin", "none"].contains(site) else {
                throw APIError(.forbidden, code: "cross_site", message: "forms of this site can only be sent from its own pages")
            }
            return
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
