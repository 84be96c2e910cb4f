import Analytics
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    func parse(_ text: String) -> JSONValue? { try? JSONParser.parse(Array(text.utf8)) }

    @Test func valuesKeepTheirExactTypes() {
        #expect(
            parse(#"{"a":1,"b":1.5,"c":true,"d":null,"e":"x","f":[1,"2",false],"g":{}}"#)
                == .object([
                    "a": .int(1), "b": .double(1.5), "c": .bool(true), "d": .null, "e": .string("x"),
                    "f": .array([.int(1), .string("2"), .bool(false)]), "g": .object([:]),
                ]))
        #expect(
            parse(" [ -0 , 2e3 , -12.5E-1 , 9223372036854775808 ] ")
                == .array([.int(0), .double(2000), .double(-1.25), .double(9.223372036854775808e18)]))
        #expect(parse(#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(parse(#""a\u0000b""#) == .string("a\u{0}b"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", ".5", "+1", "tru", "nul", "\"abc", "\"\u{1}\"", "{\"a\" 1}", "[1 2]",
        "\"\\x\"", "\"\\ud800\"", "1 2", "{}x", "NaN", "1e", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func invalidDocumentsAreRejected(_ text: String) {
        #expect(parse(text) == nil, "\(text.prefix(20))")
    }
}
