import Foundation
import Testing

@testable import Badges

@Suite("Endpoint JSON")
struct EndpointJSONTests {
    static func decode(_ badge: Badge) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(badge.endpointJSON()))
        return try #require(object as? [String: Any])
    }

    @Test("shields endpoint schema")
    func schema() throws {
        let badge = BadgeMetric.runs.badge(for: BadgeStats(totalRuns: 1_234), label: nil)
        let json = try Self.decode(badge)
        #expect(json["schemaVersion"] as? Int == 1)
        #expect(json["label"] as? String == "tested")
        #expect(json["message"] as? String == "1.2k times")
        #expect(json["color"] as? String == "brightgreen")
        #expect(json["labelColor"] == nil)
        #expect(Set(json.keys) == ["schemaVersion", "label", "message", "color"])
        let text = String(decoding: badge.endpointJSON(), as: UTF8.self)
        #expect(text == #"{"schemaVersion":1,"label":"tested","message":"1.2k times","color":"brightgreen"}"#)
    }

    @Test("label colour, hex and invalid colours are normalised")
    func colours() throws {
        let json = try Self.decode(Badge(label: "l", message: "m", color: "ABC", labelColor: "Orange"))
        #expect(json["color"] as? String == "#abc")
        #expect(json["labelColor"] as? String == "orange")
        let invalid = try Self.decode(Badge(label: "l", message: "m", color: "url(javascript:x)", labelColor: "nope"))
        #expect(invalid["color"] as? String == "lightgrey")
        #expect(invalid["labelColor"] == nil)
    }

    @Test("special characters survive a round trip")
    func escaping() throws {
        let label = #"a "quoted" \ label"#
        let message = "tab\there, ünïcödé 🚀 <b>&</b>"
        let json = try Self.decode(Badge(label: label, message: message, color: "blue"))
        #expect(json["label"] as? String == label)
        #expect(json["message"] as? String == "tab here, ünïcödé 🚀 <b>&</b>")
        #expect(try Self.decode(Badge(label: "", message: "x", color: "red"))["label"] as? String == "")
    }
}
