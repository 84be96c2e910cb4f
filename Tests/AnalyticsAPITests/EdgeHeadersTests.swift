import AnalyticsAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 27 items 4 and 5: pages say how browsers may use them, and nothing a client sends in
/// a header ends up in a page that shared caches keep.
@Suite("Edge headers", .serialized)
struct EdgeHeadersTests {
    static let hostile: HTTPFields = [
        HTTPField.Name("Host")!: "evil.example", HTTPField.Name("X-Forwarded-Host")!: "evil.example",
        HTTPField.Name("X-Forwarded-Proto")!: "https", HTTPField.Name("Forwarded")!: "host=evil.example;proto=https",
    ]

    @Test func pagesSayHowBrowsersMayUseThem() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("edge-headers")
            for path in ["/", "/packages/\(package.name)", "/login", "/me", "/packages/no-such-package-here"] {
                let page = try await client.get(path)
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true, "\(path)")
                #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(path)")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(path)")
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true, "\(path)")
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(path)")
            }
            // Personal pages are never kept by a shared cache.
            #expect(try await client.get("/me").headers[.cacheControl] == "private, no-store")
            // JSON and badges are not pages, but are not sniffed either.
            let json = try await client.get("/api/v1/analytics/package/\(package.id)")
            #expect(json.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(json.headers[HTTPField.Name("Referrer-Policy")!] == nil)
        }
    }

    /// The badge snippets of a package page were made absolute with the request's `Host`: a
    /// client could make a shared cache keep a page whose snippets point at its own site.
    @Test func aPublicPageNeverShowsTheRequestsHost() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("edge-host")
            let page = try await client.get("/packages/\(package.name)", headers: Self.hostile)
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl]?.hasPrefix("public") == true)
            #expect(!page.text.contains("evil.example"))
            #expect(page.text.contains("(/api/v1/analytics/package/"))  // relative without PUBLIC_BASE_URL
            // Signing in from an untrusted peer: its X-Forwarded-Proto does not count (no `Secure`).
            let user = try await Fixture(postgres: deps.postgres).user("edge-proto")
            var headers = Self.hostile
            headers[HTTPField.Name("Sec-Fetch-Site")!] = "none"
            let signedIn = try await client.get("/me?token=\(try await Tokens.sign(user: user))", headers: headers)
            #expect(signedIn.sessionCookie != nil)
            #expect(signedIn.sessionCookie?.contains("Secure") == false)
        }
        let replica = try await makeReplica { $0.publicBaseURL = "https://analytics.example" }
        try await withFreshApp(replica) { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("edge-base")
            let page = try await client.get("/packages/\(package.name)", headers: Self.hostile)
            #expect(!page.text.contains("evil.example"))
            #expect(page.text.contains("(https://analytics.example/api/v1/analytics/package/"))
            // Served over https (as the base URL says): the session cookie is Secure.
            let user = try await Fixture(postgres: deps.postgres).user("edge-https")
            let signedIn = try await client.get(
                "/me?token=\(try await Tokens.sign(user: user))", headers: [HTTPField.Name("Sec-Fetch-Site")!: "none"])
            #expect(signedIn.sessionCookie?.contains("Secure") == true)
        }
        await replica.shutdown()
    }

    @Test(
        "PUBLIC_BASE_URL is a scheme and a host",
        arguments: [
            ("https://analytics.example", "https://analytics.example"), ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("ftp://x.example", nil), ("https://x.example/path", nil), ("https://x.example?q=1", nil), ("https://", nil),
            ("javascript:alert(1)", nil), ("https://x.example/#f", nil), ("https://u:p@x.example", nil), ("https://x\".example", nil),
        ] as [(String, String?)])
    func publicBaseURL(value: String, expected: String?) {
        let config = try? AppConfig(environment: ["PUBLIC_BASE_URL": value])
        #expect(config?.publicBaseURL == expected)
        if expected == nil { #expect(config == nil) }
    }
}
