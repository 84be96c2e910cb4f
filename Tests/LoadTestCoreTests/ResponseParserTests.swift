import Testing

@testable import LoadTestCore

@Suite("HTTP response parser")
struct ResponseParserTests {
    private func parse(_ chunks: [[UInt8]], collect: Bool = true) throws -> [HTTPResponseParser.Response] {
        var parser = HTTPResponseParser(collectBody: collect)
        var out: [HTTPResponseParser.Response] = []
        for chunk in chunks { try parser.feed(bytes: chunk) { out.append($0) } }
        parser.finishAtEOF { out.append($0) }
        return out
    }

    private let twoResponses = Array(
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Cache: HIT\r\n\r\nhello"
            + "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nx-cache: stale\r\nConnection: close\r\n\r\n").utf8
    )

    @Test("pipelined responses split at every byte boundary")
    func splits() throws {
        for cut in 0...twoResponses.count {
            let r = try parse([Array(twoResponses[..<cut]), Array(twoResponses[cut...])])
            #expect(r.count == 2)
            #expect(r[0].status == 200 && r[0].cache == .hit && r[0].keepAlive && r[0].body == Array("hello".utf8))
            #expect(r[1].status == 503 && r[1].cache == .stale && !r[1].keepAlive && r[1].body.isEmpty)
        }
        // One byte at a time.
        let r = try parse(twoResponses.map { [$0] })
        #expect(r.map(\.status) == [200, 503])
    }

    @Test("chunked bodies, trailers, 1xx and 204")
    func chunked() throws {
        let text =
            "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Cache: MISS\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\nX-Cache: BYPASS\r\n\r\n"
        let bytes = Array(text.utf8)
        for cut in stride(from: 0, through: bytes.count, by: 3) {
            let r = try parse([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(r.count == 2)
            #expect(r[0].status == 200 && r[0].cache == .miss && r[0].body == Array("Wikipedia".utf8))
            #expect(r[1].status == 204 && r[1].cache == .bypass)
        }
    }

    @Test("a body delimited by the connection close completes at EOF")
    func untilClose() throws {
        let r = try parse([Array("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabc".utf8), Array("def".utf8)])
        #expect(r.count == 1)
        #expect(r[0].body == Array("abcdef".utf8) && !r[0].keepAlive)
    }

    @Test("HTTP/1.0 closes unless keep-alive is asked for")
    func http10() throws {
        let r = try parse([Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n".utf8)])
        #expect(r.first?.keepAlive == true)
        let s = try parse([Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)])
        #expect(s.first?.keepAlive == false)
    }

    @Test(
        "malformed input throws",
        arguments: [
            "HTTX/1.1 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ])
    func malformed(text: String) {
        #expect(throws: (any Error).self) { _ = try parse([Array(text.utf8)]) }
    }
}
