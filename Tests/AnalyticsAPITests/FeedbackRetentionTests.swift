import Analytics
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 27, item 8: feedback text follows its retention. Text on a run older than 6 months is
/// refused (422 `feedback_expired`, nothing stored), through the feedback API and through
/// ingestion; a rating or helpfulness alone is still accepted. The ages are far from the
/// boundary (7 and 5 months), so the expectations do not depend on how it is computed.
@Suite("Feedback text on old runs", .serialized)
struct FeedbackRetentionTests {
    static func ago(months: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .month, value: -months, to: Date())!
    }

    @Test func feedbackTextOnARunOlderThanSixMonthsIs422AndChangesNothing() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("late-rater")
            var (oldRow, newerRow) = (Fixture.Usage(user: user), Fixture.Usage(user: user))
            oldRow.at = Self.ago(months: 7)
            newerRow.at = Self.ago(months: 5)
            let ids = try await f.usage([oldRow, newerRow])
            let (old, newer) = (ids[0], ids[1])
            let auth = Tokens.bearer(try await Tokens.sign(user: user))
            let row = "SELECT coalesce(user_rating::text, 'NULL') || '/' || coalesce(user_feedback, 'NULL') FROM playground_usage WHERE id = $1"
            let digest = try await f.databaseDigest()

            let refused = try await client.post(
                "/api/v1/analytics/feedback", json: #"{"usageId":"\#(old)","rating":5,"feedback":"remembered late"}"#, headers: auth)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.errorCode == "feedback_expired")
            #expect(refused.headers[HTTPField.Name("X-Error-Field")!] == "feedback")
            #expect(try await f.scalar(row, [old]) == "NULL/NULL", "nothing of the request is stored")
            #expect(try await f.databaseDigest() == digest)

            // A rating alone is still accepted on the old run; text on a newer run too.
            let rated = try await client.post("/api/v1/analytics/feedback", json: #"{"usageId":"\#(old)","rating":2}"#, headers: auth)
            #expect(rated.status == .ok)
            #expect(try await f.scalar(row, [old]) == "2/NULL")
            let kept = try await client.post(
                "/api/v1/analytics/feedback", json: #"{"usageId":"\#(newer)","feedback":"still in time"}"#, headers: auth)
            #expect(kept.status == .ok)
            #expect(try await f.scalar(row, [newer]) == "NULL/still in time")

            // Another user's old row is still a 404, not a hint that it exists.
            let stranger = Tokens.bearer(try await Tokens.sign(user: try await f.user("stranger")))
            let hidden = try await client.post(
                "/api/v1/analytics/feedback", json: #"{"usageId":"\#(old)","feedback":"not mine"}"#, headers: stranger)
            #expect(hidden.status == .notFound)
        }
    }

    @Test func anIngestedEventWithOldFeedbackTextRefusesTheBatch() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("late-ingest")
            let auth = Tokens.bearer(TestEnvironment.ingestToken)
            func event(monthsAgo: Int, _ extra: String) -> String {
                let createdAt = ISO8601DateFormatter().string(from: Self.ago(months: monthsAgo))
                return #"{"userId":"\#(user)","model":"gpt-4o","tokensUsed":10,"durationMs":100,"createdAt":"\#(createdAt)"\#(extra)}"#
            }
            let runs = "SELECT count(*)::text FROM playground_usage WHERE user_id = $1"

            let batch =
                "{\"events\":["
                + [event(monthsAgo: 5, #","userFeedback":"fine""#), event(monthsAgo: 7, #","userFeedback":"too late""#)]
                .joined(separator: ",") + "]}"
            let refused = try await client.post("/api/v1/analytics/usage", json: batch, headers: auth)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.errorCode == "feedback_expired")
            #expect(refused.headers[HTTPField.Name("X-Error-Index")!] == "1")
            #expect(refused.headers[HTTPField.Name("X-Error-Field")!] == "userFeedback")
            #expect(try await f.scalar(runs, [user]) == "0", "batches are all or nothing")

            // Without text the old event is stored, with its rating; text on a newer one too.
            let accepted =
                "{\"events\":["
                + [event(monthsAgo: 7, #","userRating":3"#), event(monthsAgo: 5, #","userFeedback":"fine""#)]
                .joined(separator: ",") + "]}"
            #expect(try await client.post("/api/v1/analytics/usage", json: accepted, headers: auth).status == .created)
            #expect(
                try await f.scalar(
                    "SELECT string_agg(coalesce(user_rating::text, 'NULL') || '/' || coalesce(user_feedback, 'NULL'), ',' ORDER BY created_at) FROM playground_usage WHERE user_id = $1",
                    [user]) == "3/NULL,NULL/fine")
        }
    }
}
