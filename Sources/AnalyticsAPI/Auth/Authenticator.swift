import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit

/// The claims PRPM's registry tokens carry: the user in `user_id` (else `sub`), `exp` required;
/// `nbf` and `iat`, when present, must not lie in the future (a minute of clock skew allowed).
struct AccessTokenClaims: JWTPayload {
    var user_id: String?
    var sub: SubjectClaim?
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?

    static let clockSkew: TimeInterval = 60

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(Self.clockSkew))
        if let iat, iat.value > Date().addingTimeInterval(Self.clockSkew) {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
    }
}

/// Verifies `Authorization: Bearer <JWT>` (HS256 only) and that the user exists and is not deleted.
public final class Authenticator: Sendable {
    private let keys: JWTKeyCollection
    private let queries: AnalyticsQueries
    private let activeUsers: TTLCache<UUID, Bool>
    /// Tokens already verified, by their exact text, until their `exp` (at most a minute):
    /// verifying an HS256 token on every read cost about as much CPU as the rest of a cached read.
    private let verified = TTLCache<String, VerifiedToken>(
        ttl: .seconds(60), capacity: 50_000, maxBytes: 16 << 20, name: "verified_tokens", cost: { token, _ in token.utf8.count + 64 })

    struct VerifiedToken: Sendable {
        let userId: UUID
        let expires: Date
    }

    public init(secret: String, queries: AnalyticsQueries, cacheSeconds: Int) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
        self.queries = queries
        self.activeUsers = TTLCache(
            ttl: .seconds(cacheSeconds), capacity: 100_000, maxBytes: 8 << 20, name: "active_users", cost: { _, _ in 64 })
    }

    /// The authenticated user's id, or a 401 `APIError`.
    public func userId(from request: Request) async throws -> UUID {
        guard let token = Self.bearerToken(request) else { throw APIError.unauthorized("missing bearer token") }
        return try await session(token: token).userId
    }

    /// The token of `Authorization: Bearer …`, if the request has one.
    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// The user a token names and until when it is valid, or a 401 `APIError`: the token is
    /// verified (signature, algorithm, claims) and its user must exist and not be deleted.
    func session(token: String) async throws -> VerifiedToken {
        let session: VerifiedToken
        if let known = verified[token], known.expires > Date() {
            session = known
        } else {
            let claims = try await verify(token)
            guard let text = claims.user_id ?? claims.sub?.value, let userId = UUID(uuidString: text) else {
                throw APIError.unauthorized("token names no user")
            }
            session = VerifiedToken(userId: userId, expires: claims.exp.value)
            verified[token] = session
        }
        let id = session.userId
        let active: Bool
        if let cached = activeUsers[id] {
            active = cached
        } else {
            active = try await queries.isActiveUser(id)
            // Only "active" is remembered: a user created a moment ago must not be refused for
            // AUTH_CACHE_S because an earlier request came first.
            if active { activeUsers[id] = active }
        }
        guard active else { throw APIError.unauthorized("unknown or deleted user") }
        return session
    }

    private func verify(_ token: String) async throws -> AccessTokenClaims {
        guard Self.headerAlgorithm(token) == "HS256" else { throw APIError.unauthorized("token must be signed with HS256") }
        do {
            return try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw APIError.unauthorized("invalid or expired token")
        }
    }

    /// The `alg` of a compact JWS header, read before any verification so that `none`
    /// and every other algorithm are refused whatever the key collection would do.
    static func headerAlgorithm(_ token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(String(parts[0])),
            let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any]
        else { return nil }
        return object["alg"] as? String
    }
}

enum Base64URL {
    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }
}
