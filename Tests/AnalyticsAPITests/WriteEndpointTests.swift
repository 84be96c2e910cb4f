import Analytics
import AnalyticsAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

@Suite("POST /feedback and /usage", .serialized)
struct WriteEndpointTests {
    @Test func feedbackOnOwnRowIsStoredAndReadYourWrites() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("rater")
            let package = try await f.package("rated")
            var row = Fixture.Usage(user: user, package: package.id)
            row.rating = 2
            let usage = try await f.usage([row])[0]
            let before = try await client.get("/api/v1/analytics/package/\(package.id)").json(PackageStats.self)
            #expect(before.avgRating == 2)
            let auth = Tokens.bearer(try await Tokens.sign(user: user))

            let response = try await client.post(
                "/api/v1/analytics/feedback", json: #"{"usageId":"\#(usage)","rating":5,"feedback":"saved me an hour"}"#, headers: auth)
            #expect(response.status == .ok)
            let result = try response.json(FeedbackResult.self)
            #expect(result == FeedbackResult(usageId: usage, rating: 5, wasHelpful: nil, feedback: "saved me an hour"))
            // Fields not given stay as they are.
            let second = try await client.post("/api/v1/analytics/feedback", json: #"{"usageId":"\#(usage)","wasHelpful":true}"#, headers: auth)
            #expect(try second.json(FeedbackResult.self) == FeedbackResult(usageId: usage, rating: 5, wasHelpful: true, feedback: "saved me an hour"))
            // The cached package entry was invalidated: the next read shows the new rating.
            let after = try await client.get("/api/v1/analytics/package/\(package.id)")
            #expect(after.headers[HTTPField.Name("X-Cache")!] == "MISS")
            #expect(try after.json(PackageStats.self).avgRating == 5)
        }
    }

    @Test func aWriteSlowerThanTheDeadlineIsAnsweredWithItsOutcome() async throws {
        let replica = try await makeReplica { $0.requestTimeoutMs = 200 }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let user = try await f.user("slow-writer")
            let package = try await f.package("slow-written")
            let usage = try await f.usage([Fixture.Usage(user: user, package: package.id)])[0]
            let locker = TestEnvironment.locker()
            defer { locker.shutdown() }
            try await withFreshApp(replica) { client, _ in
                let auth = Tokens.bearer(try await Tokens.sign(user: user))
                #expect(try await client.get("/api/v1/analytics/user/me", headers: auth).json(UserStats.self).totalRuns == 1)

                // The rows the writes need are locked for 800 ms, four times the deadline: the
                // statements are sent at once and commit when the lock goes.
                var holding = try await TestEnvironment.holdInTransaction(
                    locker, "SELECT 1 FROM packages WHERE id = '\(package.id)' FOR UPDATE", for: .milliseconds(800))
                let ingested = try await client.post(
                    "/api/v1/analytics/usage",
                    json: #"{"events":[{"userId":"\#(user)","packageId":"\#(package.id)","model":"m","tokensUsed":1,"durationMs":1}]}"#,
                    headers: Tokens.bearer(TestEnvironment.ingestToken))
                try await holding.value
                #expect(ingested.status == .created)
                let ids = try #require(ingested.object["ids"] as? [String])
                #expect(try await f.scalar("SELECT count(*) FROM playground_usage WHERE id = $1::uuid", [ids[0]]) == "1")

                holding = try await TestEnvironment.holdInTransaction(
                    locker, "SELECT 1 FROM playground_usage WHERE id = '\(usage)' FOR UPDATE", for: .milliseconds(800))
                let rated = try await client.post("/api/v1/analytics/feedback", json: #"{"usageId":"\#(usage)","rating":4}"#, headers: auth)
                try await holding.value
                #expect(rated.status == .ok)
                #expect(try await f.scalar("SELECT user_rating FROM playground_usage WHERE id = $1", [usage]) == "4")

                // The cache marks of both writes were recorded: the writer sees them on the next read.
                let me = try await client.get("/api/v1/analytics/user/me", headers: auth).json(UserStats.self)
                #expect(me.totalRuns == 2)
            }
        }
    }

    @Test func feedbackOnSomeoneElsesOrMissingRowIs404AndChangesNothing() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let (owner, intruder) = (try await f.user("owner"), try await f.user("intruder"))
            var row = Fixture.Usage(user: owner)
            row.rating = 3
            let usage = try await f.usage([row])[0]
            let digest = try await f.databaseDigest()
            let auth = Tokens.bearer(try await Tokens.sign(user: intruder))
            for id in [usage, UUID()] {
                let response = try await client.post("/api/v1/analytics/feedback", json: #"{"usageId":"\#(id)","rating":1}"#, headers: auth)
                #expect(response.status == .notFound)
                #expect(response.errorCode == "not_found")
            }
            #expect(try await f.databaseDigest() == digest)
            #expect(try await f.scalar("SELECT user_rating::text FROM playground_usage WHERE id = $1", [usage]) == "3")
        }
    }

    @Test func badFeedbackBodiesGetTheirStatusAndChangeNothing() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("careful")
            let usage = try await f.usage([Fixture.Usage(user: user)])[0]
            let auth = Tokens.bearer(try await Tokens.sign(user: user))
            let digest = try await f.databaseDigest()
            let cases: [(String, HTTPResponse.Status)] = [
                (#"{"usageId":"\#(usage)","rating":0}"#, .unprocessableContent),
                (#"{"usageId":"\#(usage)","rating":6}"#, .unprocessableContent),
                (#"{"usageId":"\#(usage)","rating":"5"}"#, .badRequest),
                (#"{"usageId":"\#(usage)","feedback":"\#(String(repeating: "x", count: 2001))"}"#, .unprocessableContent),
                (#"{"usageId":"\#(usage)"}"#, .unprocessableContent),
                (#"{"usageId":"not-a-uuid","rating":3}"#, .badRequest),
                (#"{"usageId":"\#(usage)","wasHelpful":"yes"}"#, .badRequest),
                ("{not json", .badRequest),
                ("", .badRequest),
            ]
            for (body, status) in cases {
                let response = try await client.post("/api/v1/analytics/feedback", json: body, headers: auth)
                #expect(response.status == status, "\(body.prefix(60))")
                #expect(response.errorCode != nil)
            }
            let wrongType = try await client.post(
                "/api/v1/analytics/feedback", json: #"{"usageId":"\#(usage)","rating":4}"#,
                headers: auth + [HTTPField(name: .contentType, value: "text/plain")])
            #expect(wrongType.status == .unsupportedMediaType)
            let huge = #"{"usageId":"\#(usage)","feedback":"\#(String(repeating: "y", count: 70_000))"}"#
            let tooLarge = try await client.post("/api/v1/analytics/feedback", json: huge, headers: auth)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode == "body_too_large")
            #expect(try await f.databaseDigest() == digest)
        }
    }

    /// Issue 11, item 7: lengths are checked as Postgres counts them (code points): a model of
    /// 8 family emoji is 8 graphemes but 56 code points, one past VARCHAR(50) → 422, nothing
    /// stored (it used to reach Postgres and answer 500); exactly 50 code points are stored.
    @Test func lengthsAreCountedLikePostgres() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("emoji")
            let auth = Tokens.bearer(TestEnvironment.ingestToken)
            let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"
            func event(model: String) -> String { #"{"userId":"\#(user)","model":"\#(model)","tokensUsed":1,"durationMs":1}"# }
            let digest = try await f.databaseDigest()
            let tooLong = try await client.post("/api/v1/analytics/usage", json: event(model: String(repeating: family, count: 8)), headers: auth)
            #expect(tooLong.status == .unprocessableContent)
            #expect(tooLong.headers[HTTPField.Name("X-Error-Field")!] == "model")
            #expect(try await f.databaseDigest() == digest)
            let atTheLimit = String(repeating: family, count: 7) + "a"
            #expect(atTheLimit.unicodeScalars.count == 50)
            let stored = try await client.post("/api/v1/analytics/usage", json: event(model: atTheLimit), headers: auth)
            #expect(stored.status == .created)
            let id = try #require(try stored.json(IngestResult.self).ids.first)
            #expect(try await f.scalar("SELECT model FROM playground_usage WHERE id = $1", [id]) == atTheLimit)
        }
    }

    /// Contract section 4 / issue 11 item 3: `Idempotency-Key` makes a retry safe.
    @Test func idempotencyKeyMakesRetriesSafe() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("retry")
            let package = try await f.package("retried")
            var headers = Tokens.bearer(TestEnvironment.ingestToken)
            headers[HTTPField.Name("Idempotency-Key")!] = "batch-\(f.tag)"
            let body =
                #"{"events":[{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":1,"durationMs":1},"#
                + #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":2,"durationMs":2}]}"#
            func rows() async throws -> String? {
                try await f.scalar("SELECT count(*)::text FROM playground_usage WHERE package_id = $1", [package.id])
            }
            // Concurrent retries of the same request: one batch is inserted, all get its answer.
            let keyed = headers
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, [UUID]).self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let response = try await client.post("/api/v1/analytics/usage", json: body, headers: keyed)
                        return (response.status, try response.json(IngestResult.self).ids)
                    }
                }
                var all: [(HTTPResponse.Status, [UUID])] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            #expect(answers.allSatisfy { $0.0 == .created })
            #expect(Set(answers.map(\.1)).count == 1)
            #expect(answers[0].1.count == 2)
            #expect(try await rows() == "2")
            // A later retry: the first answer again, nothing inserted.
            let retry = try await client.post("/api/v1/analytics/usage", json: body, headers: headers)
            #expect(retry.status == .created)
            #expect(try retry.json(IngestResult.self).ids == answers[0].1)
            #expect(try await rows() == "2")
            // The same key with another body: 422, nothing stored.
            let digest = try await f.databaseDigest()
            let other = try await client.post(
                "/api/v1/analytics/usage", json: body.replacingOccurrences(of: "\"tokensUsed\":2", with: "\"tokensUsed\":3"), headers: headers)
            #expect(other.status == .unprocessableContent)
            #expect(other.headers[HTTPField.Name("X-Error-Field")!] == "Idempotency-Key")
            #expect(try await f.databaseDigest() == digest)
            // A malformed key: 400, nothing stored.
            headers[HTTPField.Name("Idempotency-Key")!] = "has spaces in it"
            #expect(try await client.post("/api/v1/analytics/usage", json: body, headers: headers).status == .badRequest)
            #expect(try await f.databaseDigest() == digest)
        }
    }

    /// A body over 64 KiB is parsed off the event loop (`WriteController.parse`): the same
    /// answers as on the loop, a valid batch stored whole and an invalid one refused whole.
    @Test func largeBatchesAreParsedOffTheLoopWithTheSameAnswers() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("large-batch")
            let auth = Tokens.bearer(TestEnvironment.ingestToken)
            func event(_ tokens: Int) -> String {
                #"{"userId":"\#(user)","model":"gpt-4o","tokensUsed":\#(tokens),"durationMs":5,"errorMessage":"\#(String(repeating: "m", count: 900))"}"#
            }
            let digest = try await f.databaseDigest()
            var invalid = (0..<150).map { event($0) }
            invalid[140] = event(-1)
            let refused = try await client.post("/api/v1/analytics/usage", json: "{\"events\":[" + invalid.joined(separator: ",") + "]}", headers: auth)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.headers[HTTPField.Name("X-Error-Index")!] == "140")
            #expect(try await f.databaseDigest() == digest)
            let body = "{\"events\":[" + (0..<150).map { event($0) }.joined(separator: ",") + "]}"
            #expect(body.utf8.count > 64 * 1024)
            let stored = try await client.post("/api/v1/analytics/usage", json: body, headers: auth)
            #expect(stored.status == .created)
            #expect(try stored.json(IngestResult.self).ids.count == 150)
            #expect(try await f.scalar("SELECT count(*) FROM playground_usage WHERE user_id = $1", [user]) == "150")
        }
    }

    @Test func ingestionInsertsAllOrNothing() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("ingest")
            let package = try await f.package("ingested")
            let org = try await f.organization("ingest-org")
            let auth = Tokens.bearer(TestEnvironment.ingestToken)
            func event(_ extra: String = "", tokens: Int = 120, packageId: UUID? = nil) -> String {
                let packageId = (packageId ?? package.id).uuidString
                return
                    #"{"userId":"\#(user)","packageId":"\#(packageId)","orgId":"\#(org)","model":"gpt-4o","tokensUsed":\#(tokens),"durationMs":900\#(extra)}"#
            }
            let single = try await client.post("/api/v1/analytics/usage", json: event(#","packageVersion":"1.0.0","userRating":4"#), headers: auth)
            #expect(single.status == .created)
            let ids = try single.json(IngestResult.self).ids
            #expect(ids.count == 1)
            #expect(
                try await f.scalar(
                    "SELECT count(*)::text FROM playground_usage WHERE id = $1 AND credits_spent = 1 AND error_occurred = false", [ids[0]]) == "1")

            let batch = "{\"events\":[" + (0..<50).map { _ in event(#","errorOccurred":true"#) }.joined(separator: ",") + "]}"
            let created = try await client.post("/api/v1/analytics/usage", json: batch, headers: auth)
            #expect(created.status == .created)
            #expect(try created.json(IngestResult.self).ids.count == 50)
            let stats = try await client.get("/api/v1/analytics/package/\(package.id)").json(PackageStats.self)
            #expect(stats.totalRuns == 51)
            #expect(stats.successRate == 2)  // 1 of 51 → 1.96 → 2.0

            let digest = try await f.databaseDigest()
            let badOne = "{\"events\":[" + [event(), event(), event(tokens: -5), event()].joined(separator: ",") + "]}"
            let rejected = try await client.post("/api/v1/analytics/usage", json: badOne, headers: auth)
            #expect(rejected.status == .unprocessableContent)
            #expect(rejected.headers[HTTPField.Name("X-Error-Index")!] == "2")
            #expect(rejected.headers[HTTPField.Name("X-Error-Field")!] == "tokensUsed")
            #expect((rejected.object["error"] as? [String: Any])?["message"] as? String == "events[2].tokensUsed must be between 0 and 2147483647")

            let unknownPackage =
                "{\"events\":["
                + [event(), event(packageId: UUID())]
                .joined(separator: ",") + "]}"
            let missingRef = try await client.post("/api/v1/analytics/usage", json: unknownPackage, headers: auth)
            #expect(missingRef.status == .unprocessableContent)
            #expect(missingRef.headers[HTTPField.Name("X-Error-Index")!] == "1")
            #expect(missingRef.headers[HTTPField.Name("X-Error-Field")!] == "packageId")

            let tooMany = "{\"events\":[" + Array(repeating: event(), count: 1001).joined(separator: ",") + "]}"
            #expect(try await client.post("/api/v1/analytics/usage", json: tooMany, headers: auth).status == .unprocessableContent)
            #expect(try await client.post("/api/v1/analytics/usage", json: "[1,2", headers: auth).status == .badRequest)
            #expect(try await client.post("/api/v1/analytics/usage", json: event(), headers: Tokens.bearer("wrong")).status == .unauthorized)
            #expect(try await client.post("/api/v1/analytics/usage", json: event()).status == .unauthorized)
            let oversize =
                "{\"events\":["
                + Array(repeating: event(#","errorMessage":"\#(String(repeating: "e", count: 5000))""#), count: 300)
                .joined(separator: ",") + "]}"
            #expect(try await client.post("/api/v1/analytics/usage", json: oversize, headers: auth).status == .contentTooLarge)
            #expect(try await f.databaseDigest() == digest)
        }
    }
}

@Suite("Authentication", .serialized)
struct AuthenticationTests {
    @Test func everyBadTokenIs401WithWWWAuthenticate() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("tok")
            let deleted = try await f.user("gone", deletedAt: Date().addingTimeInterval(-60))
            let tokens: [(String, HTTPFields)] = [
                ("missing", [:]),
                ("not bearer", [.authorization: "Basic abc"]),
                ("malformed", Tokens.bearer("abc.def")),
                ("expired", Tokens.bearer(try await Tokens.sign(user: user, expiresIn: -60))),
                ("alg none", Tokens.bearer(Tokens.unsigned(user: user))),
                ("bad signature", Tokens.bearer(try await Tokens.sign(user: user, secret: "another-secret-0123456789abcdef0123456789"))),
                ("deleted user", Tokens.bearer(try await Tokens.sign(user: deleted))),
                ("unknown user", Tokens.bearer(try await Tokens.sign(user: UUID()))),
                ("no user claim", Tokens.bearer(try await Tokens.sign(user: nil))),
            ]
            for (name, headers) in tokens {
                let response = try await client.get("/api/v1/analytics/user/me", headers: headers)
                #expect(response.status == .unauthorized, "\(name)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer", "\(name)")
                #expect(response.errorCode == "unauthorized", "\(name)")
            }
            // `sub` works when there is no user_id claim.
            let viaSub = try await client.get("/api/v1/analytics/user/me", headers: Tokens.bearer(try await Tokens.sign(user: nil, sub: user)))
            #expect(viaSub.status == .ok)
        }
    }

    /// Verified tokens are remembered for speed, never past their `exp`.
    @Test func aRememberedTokenStillExpires() async throws {
        try await withApp { client, deps in
            let user = try await Fixture(postgres: deps.postgres).user("short-lived")
            let headers = Tokens.bearer(try await Tokens.sign(user: user, expiresIn: 2))
            #expect(try await client.get("/api/v1/analytics/user/me", headers: headers).status == .ok)
            #expect(try await client.get("/api/v1/analytics/user/me", headers: headers).status == .ok)
            try await Task.sleep(for: .milliseconds(2_100))
            let late = try await client.get("/api/v1/analytics/user/me", headers: headers)
            #expect(late.status == .unauthorized)
            #expect(late.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    /// Issue 11, item 9: `nbf` and a future `iat` are respected; a refused unknown user is not
    /// remembered (a user created a moment later gets in at once).
    @Test func notBeforeIssuedAtAndNewUsers() async throws {
        let replica = try await makeReplica { $0.authCacheSeconds = 30 }
        try await withCleanup({ await replica.shutdown() }) {
            try await withFreshApp(replica) { client, deps in
                let f = Fixture(postgres: deps.postgres)
                let user = try await f.user("claims")
                let later = Date().addingTimeInterval(300)
                for (name, token) in [
                    ("nbf in the future", try await Tokens.sign(user: user, notBefore: later)),
                    ("iat in the future", try await Tokens.sign(user: user, issuedAt: later)),
                ] {
                    let response = try await client.get("/api/v1/analytics/user/me", headers: Tokens.bearer(token))
                    #expect(response.status == .unauthorized, "\(name)")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer", "\(name)")
                }
                let fine = try await Tokens.sign(user: user, notBefore: Date().addingTimeInterval(-10), issuedAt: Date().addingTimeInterval(-10))
                #expect(try await client.get("/api/v1/analytics/user/me", headers: Tokens.bearer(fine)).status == .ok)

                let newcomer = UUID()
                let headers = Tokens.bearer(try await Tokens.sign(user: newcomer))
                #expect(try await client.get("/api/v1/analytics/user/me", headers: headers).status == .unauthorized)
                try await f.exec("INSERT INTO users (id, username) VALUES ($1, $2)", [newcomer, "newcomer-\(f.tag)"])
                #expect(try await client.get("/api/v1/analytics/user/me", headers: headers).status == .ok)
            }
        }
    }

    @Test func unknownRoutesAndMethods() async throws {
        try await withApp { client, _ in
            let missing = try await client.get("/api/v1/analytics/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not_found")
            let wrongMethod = try await client.execute(uri: "/api/v1/analytics/feedback", method: .get) { $0 }
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            #expect(wrongMethod.errorCode == "method_not_allowed")
            // Routes with parameters too (the router names them `{name}`), pages included.
            for (path, allow) in [
                ("/api/v1/analytics/package/\(UUID())", "GET, HEAD"), ("/api/v1/analytics/package/x/badge/runs.svg", "GET, HEAD"),
                ("/packages/some-package", "GET, HEAD"), ("/usage/\(UUID())/feedback", "GET, HEAD, POST"),
            ] {
                let response = try await client.execute(uri: path, method: .delete) { $0 }
                #expect(response.status == .methodNotAllowed, "\(path)")
                #expect(response.headers[.allow] == allow, "\(path)")
            }
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            let ready = try await client.get("/readyz")
            #expect(ready.status == .ok)
            #expect(ready.object["postgres"] as? String == "up")
        }
    }
}

/// `HEAD` on every GET route of the served application: the GET's status and headers, no body.
@Suite("HEAD requests", .serialized)
struct HeadRequestTests {
    @Test func headAnswersLikeGetWithoutABody() async throws {
        let replica = try await makeReplica { $0.port = 0 }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("head")
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                for path in ["/healthz", "/api/v1/analytics/package/\(package.id)", "/api/v1/analytics/package/\(package.id)/badge/runs.svg", "/"] {
                    let get = try await client.execute(uri: path, method: .get) { $0 }
                    let head = try await client.execute(uri: path, method: .head) { $0 }
                    #expect(head.status == get.status, "\(path)")
                    #expect(head.body.readableBytes == 0, "\(path)")
                    #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
                    #expect(head.headers[.contentLength] == String(get.body.readableBytes), "\(path)")
                }
                let missing = try await client.execute(uri: "/packages/no-such-\(UUID())", method: .head) { $0 }
                #expect(missing.status == .notFound && missing.body.readableBytes == 0)
            }
        }
    }
}
