import Foundation
import Logging
import Testing

@testable import StructuredLogging

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func fieldsFirstThenSortedMetadata() throws {
        let line = JSONLogHandler.render(
            timestamp: "2026-11-25T17:08:57.123Z", level: .warning, label: "prpm.api", message: "request",
            metadata: ["status": "200", "b": .stringConvertible(3.5), "a": .array(["x", "y"]), "d": .dictionary(["k": "v"])])
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix(#"{"ts":"2026-11-25T17:08:57.123Z","level":"warning","logger":"prpm.api","msg":"request","a":"#))
        let parsed = try object(line)
        #expect(parsed["b"] as? String == "3.5")
        #expect(parsed["a"] as? [String] == ["x", "y"])
        #expect((parsed["d"] as? [String: String])?["k"] == "v")
        #expect(parsed["status"] as? String == "200")
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() throws {
        let nasty = "say \"hi\" \\ path\nnext\ttab\u{01} and ünïcödé ✓"
        let line = JSONLogHandler.render(timestamp: "t", level: .error, label: "l", message: nasty, metadata: ["error": .string(nasty)])
        #expect(!line.contains(10))
        let parsed = try object(line)
        #expect(parsed["msg"] as? String == nasty)
        #expect(parsed["error"] as? String == nasty)
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(seconds: 0, milliseconds: 7) == "1970-01-01T00:00:00.007Z")
        #expect(JSONLogHandler.timestamp(seconds: 1_795_000_000, milliseconds: 999) == "2026-11-18T11:06:40.999Z")
        let now = JSONLogHandler.timestamp()
        let parsed = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(now)
        #expect(parsed.map { abs($0.timeIntervalSinceNow) < 60 } == true)
    }
}
