import Analytics
import Foundation
import Testing

@Suite("Feedback body validation")
struct FeedbackInputTests {
    let id = UUID()

    func parse(_ json: String) throws(FeedbackInput.Problem) -> FeedbackInput { try FeedbackInput.parse(Array(json.utf8)) }

    @Test func acceptsEachFieldAlone() throws {
        #expect(try parse(#"{"usageId":"\#(id)","rating":5}"#) == FeedbackInput(usageId: id, rating: 5))
        #expect(try parse(#"{"usageId":"\#(id)","wasHelpful":false}"#) == FeedbackInput(usageId: id, wasHelpful: false))
        #expect(try parse(#"{"usageId":"\#(id)","feedback":"ok"}"#) == FeedbackInput(usageId: id, feedback: "ok"))
        let long = String(repeating: "é", count: 2000)
        #expect(try parse(#"{"usageId":"\#(id)","feedback":"\#(long)"}"#).feedback == long)
    }

    @Test(arguments: [
        #"{"usageId":"ID","rating":0}"#, #"{"usageId":"ID","rating":6}"#, #"{"usageId":"ID"}"#,
        #"{"usageId":"ID","rating":null}"#,
    ])
    func outOfRangeOrNothingIs422(_ template: String) {
        do {
            _ = try parse(template.replacingOccurrences(of: "ID", with: id.uuidString))
            Issue.record("expected an error for \(template)")
        } catch {
            guard case .invalid = error else {
                Issue.record("expected invalid, got \(error)")
                return
            }
        }
    }

    @Test func nulCharactersAre422() {
        #expect(throws: FeedbackInput.Problem.invalid(field: "feedback", reason: "must not contain NUL characters")) {
            try parse(#"{"usageId":"\#(id)","feedback":"a\u0000b"}"#)
        }
    }

    @Test func tooLongFeedbackIs422() {
        let long = String(repeating: "x", count: 2001)
        #expect(throws: FeedbackInput.Problem.invalid(field: "feedback", reason: "must be at most 2000 characters")) {
            try parse(#"{"usageId":"\#(id)","feedback":"\#(long)"}"#)
        }
    }

    @Test(arguments: [
        "", "{", "[]", "null", #"{"usageId":"nope","rating":5}"#, #"{"usageId":5,"rating":5}"#, #"{"usageId":"ID","rating":"5"}"#,
        #"{"usageId":"ID","rating":4.5}"#, #"{"usageId":"ID","wasHelpful":"yes"}"#, #"{"usageId":"ID","wasHelpful":1}"#,
        #"{"usageId":"ID","feedback":5}"#, #"{"usageId":"ID","rating":5,"extra":1}"#,
    ])
    func malformedOrWrongTypesIs400(_ template: String) {
        do {
            _ = try parse(template.replacingOccurrences(of: "ID", with: id.uuidString))
            Issue.record("expected an error for \(template)")
        } catch {
            guard case .malformed = error else {
                Issue.record("expected malformed for \(template), got \(error)")
                return
            }
        }
    }
}

@Suite("Ingestion body validation")
struct UsageBatchTests {
    let user = UUID()

    /// A valid event; `extra` adds fields or replaces the base ones (same key).
    func event(_ extra: String = "") -> String {
        var fields = [#""userId":"\#(user)""#, #""model":"gpt-4o""#, #""tokensUsed":10"#, #""durationMs":20"#]
        for field in extra.split(separator: ",", omittingEmptySubsequences: true).map(String.init) {
            let key = field.split(separator: ":", maxSplits: 1)[0]
            fields.removeAll { $0.hasPrefix(key + ":") }
            fields.append(field)
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    @Test func singleEventAndBatch() throws {
        let one = try UsageBatch.parse(Array(event().utf8))
        #expect(one.count == 1)
        #expect(one[0].creditsSpent == 1)
        #expect(one[0].errorOccurred == false)
        let batch = try UsageBatch.parse(
            Array(#"{"events":[\#(event()),\#(event(#","creditsSpent":3,"createdAt":"2026-01-02T03:04:05.5Z""#))]}"#.utf8))
        #expect(batch.count == 2)
        #expect(batch[1].creditsSpent == 3)
        #expect(batch[1].createdAt == Date(timeIntervalSince1970: 1_767_323_045.5))
    }

    @Test func firstBadEventIsReportedWithIndexAndField() {
        let body = #"{"events":[\#(event()),\#(event()),\#(event(#","userRating":9"#)),\#(event(#","tokensUsed":"x""#))]}"#
        #expect(throws: UsageBatch.Problem.invalid(index: 2, field: "userRating", reason: "must be between 1 and 5")) {
            try UsageBatch.parse(Array(body.utf8))
        }
    }

    @Test func batchLimits() {
        let many = "{\"events\":[" + Array(repeating: event(), count: 1001).joined(separator: ",") + "]}"
        #expect(throws: UsageBatch.Problem.invalid(index: nil, field: "events", reason: "at most 1000 events")) {
            try UsageBatch.parse(Array(many.utf8))
        }
        let thousand = "{\"events\":[" + Array(repeating: event(), count: 1000).joined(separator: ",") + "]}"
        #expect((try? UsageBatch.parse(Array(thousand.utf8)))?.count == 1000)
        #expect(throws: UsageBatch.Problem.self) { try UsageBatch.parse(Array(#"{"events":[]}"#.utf8)) }
    }

    @Test(arguments: [
        (#","model":"""#, "model"), (#","durationMs":-1"#, "durationMs"), (#","durationMs":2147483648"#, "durationMs"),
        (#","orgId":"x""#, "orgId"), (#","errorOccurred":"false""#, "errorOccurred"), (#","createdAt":"yesterday""#, "createdAt"),
        (#","packageVersion":"\#(String(repeating: "1", count: 51))""#, "packageVersion"), (#","bogus":1"#, "bogus"),
        (#","model":"a\u0000b""#, "model"), (#","createdAt":"0001-01-01T00:01:01Z""#, "createdAt"),
        (#","createdAt":"2999-01-01T00:00:00Z""#, "createdAt"),
    ])
    func invalidFields(extra: String, field: String) {
        do {
            _ = try UsageBatch.parse(Array(event(extra).utf8))
            Issue.record("expected \(field) to be rejected")
        } catch {
            guard case .invalid(let index, let reported, _) = error else { Issue.record("\(error)"); return }
            #expect(index == 0)
            #expect(reported == field)
        }
    }

    /// Code points, as Postgres counts VARCHAR(n), not grapheme clusters.
    @Test func lengthsInCodePoints() throws {
        let accented = String(repeating: "e\u{301}", count: 26)  // 26 graphemes, 52 code points
        #expect(accented.count == 26)
        #expect(throws: UsageBatch.Problem.self) { try UsageBatch.parse(Array(event(#","model":"\#(accented)""#).utf8)) }
        let fifty = String(repeating: "e\u{301}", count: 25)
        #expect(try UsageBatch.parse(Array(event(#","model":"\#(fifty)""#).utf8)).first?.model == fifty)
        let feedback = String(repeating: "e\u{301}", count: 1001)  // 1001 graphemes, 2002 code points
        #expect(throws: FeedbackInput.Problem.self) {
            try FeedbackInput.parse(Array(#"{"usageId":"\#(UUID())","feedback":"\#(feedback)"}"#.utf8))
        }
    }

    @Test func missingRequiredFieldAndMalformedJSON() {
        #expect(throws: UsageBatch.Problem.invalid(index: 0, field: "userId", reason: "is required")) {
            try UsageBatch.parse(Array(#"{"model":"m","tokensUsed":1,"durationMs":1}"#.utf8))
        }
        #expect(throws: UsageBatch.Problem.malformed("body is not valid JSON")) { try UsageBatch.parse(Array("{oops".utf8)) }
    }
}
