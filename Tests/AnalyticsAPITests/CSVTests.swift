import Testing

@testable import AnalyticsAPI

@Suite struct CSVTests {
    @Test func fieldsAreQuotedAndFormulasDefused() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("") == "")
        #expect(CSV.field("a,b") == "\"a,b\"")
        #expect(CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.field("two\nlines") == "\"two\nlines\"")
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            #expect(CSV.field(start + "SUM(A1)") == "\"'" + start + "SUM(A1)\"", "\(start)")
        }
        #expect(CSV.field("=cmd|' /C calc'!A0,\"x\"") == "\"'=cmd|' /C calc'!A0,\"\"x\"\"\"")
        #expect(CSV.field("a=b") == "a=b")
        #expect(CSV.field("ünïcödé 🚀") == "ünïcödé 🚀")
    }

    @Test func documentsEndEveryRecordWithCRLF() {
        #expect(CSV.document(header: ["a", "b"], rows: [["1", "x,y"], ["-2", ""]]) == "a,b\r\n1,\"x,y\"\r\n\"'-2\",\r\n")
        #expect(CSV.usd(12.3) == "12.30")
        #expect(CSV.usd(nil) == "")
    }
}
