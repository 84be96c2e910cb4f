import Analytics
import AnalyticsAPI
import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

extension TestClientProtocol {
    func postForm(_ uri: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { $0 }
    }
}

extension TestResponse {
    /// The `prpm_token` cookie this response sets, with its attributes.
    var sessionCookie: String? { headers[values: .setCookie].first { $0.hasPrefix("prpm_token=") } }
}

func cookie(_ token: String) -> HTTPFields { [.cookie: "prpm_token=\(token)"] }

@Suite("Signing in to the pages", .serialized)
struct SignInPageTests {
    @Test func loginFormSetsAnHttpOnlyCookieAndGoesBackToTheLocalPageOnly() async throws {
        try await withApp { client, deps in
            let user = try await Fixture(postgres: deps.postgres).user("login-page")
            let token = try await Tokens.sign(user: user)
            let form = try await client.get("/login?next=/orgs/x")
            #expect(form.status == .ok && form.text.contains(#"name="next" value="/orgs/x""#))
            #expect(form.headers[.cacheControl] == "private, no-store")

            let signedIn = try await client.postForm("/login", [("token", token), ("next", "/me?days=7")])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/me?days=7")
            let setCookie = try #require(signedIn.sessionCookie)
            #expect(setCookie.hasPrefix("prpm_token=\(token);"))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] { #expect(setCookie.contains(attribute), "\(attribute)") }
            // An X-Forwarded-Proto from a peer that is not one of TRUSTED_PROXIES does not count.
            let tls = try await client.postForm("/login", [("token", token)], headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(tls.sessionCookie?.contains("Secure") == false)

            // Only paths of this site: another host becomes /me.
            for next in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "me"] {
                let response = try await client.postForm("/login", [("token", token), ("next", next)])
                #expect(response.headers[.location] == "/me", "\(next)")
            }
            // A bad token: the form again, with the reason, and no cookie.
            for bad in [
                "not-a-jwt", try await Tokens.sign(user: user, secret: "another-secret-0123456789abcdef0123456789"), Tokens.unsigned(user: user),
            ] {
                let refused = try await client.postForm("/login", [("token", bad), ("next", "/me")])
                #expect(refused.status == .unauthorized)
                #expect(refused.sessionCookie == nil)
                #expect(refused.text.contains(#"id="token-error" role="alert">"#) && refused.text.contains("token"))
            }
            // Another site's form is refused.
            for origin in ["https://evil.example", "null"] {
                let crossSite = try await client.postForm("/login", [("token", token)], headers: [HTTPField.Name("Origin")!: origin])
                #expect(crossSite.status == .forbidden && crossSite.sessionCookie == nil, "\(origin)")
            }
            // Signing out clears the cookie.
            let out = try await client.postForm("/logout", [], headers: cookie(token))
            #expect(out.status == .seeOther && out.sessionCookie?.contains("Max-Age=0") == true)
        }
    }

    @Test func aTokenInTheAddressIsKeptInTheCookieAndDropped() async throws {
        try await withApp { client, deps in
            let user = try await Fixture(postgres: deps.postgres).user("token-once")
            let token = try await Tokens.sign(user: user)
            let typed: HTTPFields = [HTTPField.Name("Sec-Fetch-Site")!: "none"]
            let response = try await client.get("/me?days=7&token=\(token)", headers: typed)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/me?days=7")
            #expect(response.sessionCookie?.hasPrefix("prpm_token=\(token);") == true)
            let expired = try await client.get("/me?token=\(try await Tokens.sign(user: user, expiresIn: -120))", headers: typed)
            #expect(expired.status == .unauthorized && expired.sessionCookie == nil)
        }
    }

    /// Issue 27 item 5: a link or frame of another site that carries someone's token must not
    /// sign the reader in as them. The token still leaves the address; no cookie is set.
    @Test func aTokenFromAnotherSiteDoesNotSignIn() async throws {
        try await withApp { client, deps in
            let user = try await Fixture(postgres: deps.postgres).user("token-cross-site")
            let token = try await Tokens.sign(user: user)
            for (path, site) in [
                ("/me?days=7&token=", "cross-site"), ("/me?days=7&token=", "same-site"), ("/me?days=7&token=", nil),
                ("/login?next=%2Fme%3Fdays%3D7&token=", "cross-site"), ("/login?next=%2Fme%3Fdays%3D7&token=", nil),
            ] {
                var headers: HTTPFields = [:]
                if let site { headers[HTTPField.Name("Sec-Fetch-Site")!] = site }
                let response = try await client.get(path + token, headers: headers)
                #expect(response.status == .seeOther, "\(path) \(site ?? "no header")")
                #expect(response.headers[.location] == "/me?days=7", "\(path) \(site ?? "no header")")
                #expect(response.sessionCookie == nil, "\(path) \(site ?? "no header")")
            }
            // The same navigations made on this site sign in.
            for site in ["same-origin", "none"] {
                let response = try await client.get("/login?next=%2Fme%3Fdays%3D7&token=\(token)", headers: [HTTPField.Name("Sec-Fetch-Site")!: site])
                #expect(response.headers[.location] == "/me?days=7")
                #expect(response.sessionCookie?.hasPrefix("prpm_token=\(token);") == true)
            }
            // A token in `next` is dropped too.
            let form = try await client.get("/login?next=%2Fme%3Ftoken%3D\(token)%26days%3D7")
            #expect(form.status == .ok && !form.text.contains(token))
        }
    }
}

@Suite("My analytics page", .serialized)
struct MyAnalyticsPageTests {
    @Test func showsTheUsersOwnAnswerPrivately() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("me-page")
            let package = try await f.package("me-page <prompt>")
            var rows: [Fixture.Usage] = []
            for index in 0..<10 {
                var row = Fixture.Usage(user: user, package: package.id)
                // 6 runs on gpt-4o at 4 s, 4 on claude-haiku at 1 s: haiku is 75 % faster than the most used.
                row.model = index < 6 ? "gpt-4o" : "claude-haiku"
                row.duration = index < 6 ? 4000 : 1000
                row.credits = 3
                row.daysAgo = index % 3
                rows.append(row)
            }
            try await f.usage(rows)
            let token = try await Tokens.sign(user: user)
            let json = try await client.get("/api/v1/analytics/user/me?days=30", headers: Tokens.bearer(token)).json(UserStats.self)

            // Without credentials: the login form, 401, coming back here.
            let anonymous = try await client.get("/me")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.text.contains(#"<form method="post" action="/login""#) && anonymous.text.contains(#"value="/me""#))

            for headers in [cookie(token), Tokens.bearer(token)] {
                let page = try await client.get("/me", headers: headers)
                #expect(page.status == .ok)
                #expect(page.headers[.cacheControl] == "private, no-store")
                #expect(page.headers[.eTag] == nil)
                let html = page.text
                #expect(html.contains(#"data-figure="totalRuns">10<"#) && json.totalRuns == 10)
                #expect(html.contains(#"data-figure="creditsSpent">30<"#))
                // 10 tests × 3 minutes = 0.5 h, with the assumption printed.
                #expect(html.contains(#"data-figure="hoursSaved">0.5 h<"#) && html.contains("about 3 minutes"))
                #expect(html.contains(#"data-figure="efficiency">Use claude-haiku for 75% faster results<"#))
                #expect(html.contains("me-page &lt;prompt&gt;"))
                for day in json.dailyActivity.suffix(3) { #expect(html.contains(#"data-label="\#(day.date)" data-value="\#(day.runs)""#)) }
            }
        }
    }
}

@Suite("Organization page", .serialized)
struct OrganizationPageTests {
    @Test func adminsSeeTheirOrgWithTheChangeAgainstThePreviousPeriod() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let org = try await f.organization("Org <page>")
            let (admin, member, outsider) = (
                try await f.user("org-page-admin"), try await f.user("org-page-member"), try await f.user("org-page-out")
            )
            try await f.member(org: org, user: admin, role: "admin", team: "platform")
            try await f.member(org: org, user: member, role: "member", team: "web")
            var rows: [Fixture.Usage] = []
            // Last 7 days: 6 runs (4 by the admin, 2 by the member); the 7 days before: 4 runs.
            for index in 0..<10 {
                var row = Fixture.Usage(user: index % 3 == 0 ? member : admin, org: org)
                row.daysAgo = index < 6 ? index : 7 + index - 6
                row.credits = 5
                rows.append(row)
            }
            try await f.usage(rows)
            let expected = try await [
                f.scalar("SELECT count(*) FROM playground_usage WHERE org_id = $1 AND created_at >= (now() AT TIME ZONE 'UTC')::date - 6", [org]),
                f.scalar(
                    "SELECT count(*) FROM playground_usage WHERE org_id = $1 AND created_at >= (now() AT TIME ZONE 'UTC')::date - 13"
                        + " AND created_at < (now() AT TIME ZONE 'UTC')::date - 6", [org]),
            ].map { Int($0 ?? "") ?? -1 }
            #expect(expected == [6, 4])
            let page = try await client.get("/orgs/\(org)?days=7", headers: cookie(try await Tokens.sign(user: admin)))
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "private, no-store")
            let html = page.text
            #expect(html.contains("<h1>Org &lt;page&gt;"))
            #expect(html.contains(#"data-figure="totalRuns">6<"#))
            #expect(html.contains(#"data-figure="activeMembers">2<"#) && html.contains(#"data-figure="totalMembers">2<"#))
            #expect(html.contains(#"data-figure="adoption">100%<"#))
            // (6 − 4) / 4 = +50 % runs and credits.
            #expect(html.contains(#"data-figure="runsChange">+50%<"#) && html.contains(#"data-figure="creditsChange">+50%<"#))
            #expect(html.contains(#"data-series="previous""#))
            #expect(html.contains("org-page-admin") && html.contains(#"data-label="platform""#))

            // A member, an outsider, an unknown org, a malformed id: the 403 page (existence not revealed).
            for (user, id) in [(member, org.uuidString), (outsider, org.uuidString), (admin, UUID().uuidString), (admin, "not-a-uuid")] {
                let refused = try await client.get("/orgs/\(id)", headers: cookie(try await Tokens.sign(user: user)))
                #expect(refused.status == .forbidden)
                #expect(refused.text.contains("<h1>Not allowed</h1>") && !refused.text.contains("Org &lt;page&gt;"))
            }
            // A window too long to compare has no change figures.
            let year = try await client.get("/orgs/\(org)?days=365", headers: cookie(try await Tokens.sign(user: admin)))
            #expect(year.status == .ok && !year.text.contains("runsChange"))
        }
    }
}

@Suite("Feedback widget", .serialized)
struct FeedbackWidgetTests {
    @Test func theOwnerRatesARunThroughTheAPIsRules() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let (owner, other) = (try await f.user("widget-owner"), try await f.user("widget-other"))
            let package = try await f.package("widget-pkg")
            let usage = try #require(try await f.usage([Fixture.Usage(user: owner, package: package.id)]).first)
            let path = "/usage/\(usage.uuidString.lowercased())/feedback"
            let ownerCookie = cookie(try await Tokens.sign(user: owner))
            func stored() async throws -> String? {
                try await f.scalar(
                    "SELECT concat_ws('|', user_rating, was_helpful, user_feedback) FROM playground_usage WHERE id = $1", [usage])
            }

            let form = try await client.get(path, headers: ownerCookie)
            #expect(form.status == .ok && form.headers[.cacheControl] == "private, no-store")
            #expect(form.text.contains("widget-pkg") && form.text.contains(#"name="rating" value="5""#))
            // Someone else's run, an unknown run: 404 like the API; nobody signed in: the login form.
            #expect(try await client.get(path, headers: cookie(try await Tokens.sign(user: other))).status == .notFound)
            #expect(try await client.get("/usage/\(UUID())/feedback", headers: ownerCookie).status == .notFound)
            #expect(try await client.get(path).status == .unauthorized)

            // Bad answers: the form again with the error beside its answer (422), nothing stored.
            let before = try await stored()
            for (fields, field) in [
                ([("rating", "9")], "rating-error"), ([("rating", "x")], "rating-error"), ([("wasHelpful", "maybe")], "helpful-error"),
                ([("feedback", String(repeating: "a", count: 2001))], "feedback-error"), ([("feedback", "")], "rating-error"),
            ] {
                let response = try await client.postForm(path, fields, headers: ownerCookie)
                #expect(response.status == .unprocessableContent, "\(fields.map(\.0))")
                let error = response.text.components(separatedBy: #"id="\#(field)">"#).dropFirst().first?.prefix(while: { $0 != "<" }) ?? ""
                #expect(!error.isEmpty, "\(field)")
            }
            // Another site, another body type, another user: refused, nothing stored.
            let crossSite = try await client.postForm(
                path, [("rating", "1")], headers: ownerCookie + [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            #expect(try await client.post(path, json: #"{"rating": 1}"#, headers: ownerCookie).status == .unsupportedMediaType)
            #expect(try await client.postForm(path, [("rating", "1")], headers: cookie(try await Tokens.sign(user: other))).status == .notFound)
            #expect(try await stored() == before)

            // The owner's answer is stored and shown; their /me reflects it on the next read.
            let sent = try await client.postForm(
                path, [("rating", "4"), ("wasHelpful", "yes"), ("feedback", "clear & <useful>")], headers: ownerCookie)
            #expect(sent.status == .seeOther && sent.headers[.location] == path + "?saved=1")
            #expect(try await stored() == "4|t|clear & <useful>")
            let saved = try await client.get(path + "?saved=1", headers: ownerCookie).text
            #expect(saved.contains(#"id="saved""#) && saved.contains(#"value="4" id="rating-4" checked"#))
            #expect(saved.contains("clear &amp; &lt;useful&gt;"))
        }
    }
}
