import NIOCore
import Testing

@testable import Redis

/// The RESP2 codec without a server: every reply kind, replies cut at every byte, bad input.
@Suite("RESP2 codec")
struct RESPTests {
    static func parse(_ text: String) throws -> (RedisReply, Int)? {
        try Array(text.utf8).withUnsafeBytes { try RESP.parse($0) }
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        RESP.write([Array("SET".utf8), Array("k".utf8), [0, 13, 10]], into: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\u{0}\r\n\r\n")
    }

    @Test func everyReplyKind() throws {
        let cases: [(String, RedisReply)] = [
            ("+OK\r\n", .status("OK")),
            ("-ERR no\r\n", .error("ERR no")),
            (":-42\r\n", .integer(-42)),
            ("$5\r\na\r\nbc\r\n", .bulk(Array("a\r\nbc".utf8))),
            ("$0\r\n\r\n", .bulk([])),
            ("$-1\r\n", .null),
            ("*-1\r\n", .null),
            ("*0\r\n", .array([])),
            ("*3\r\n:1\r\n*1\r\n+x\r\n$-1\r\n", .array([.integer(1), .array([.status("x")]), .null])),
        ]
        for (text, expected) in cases {
            let parsed = try #require(try Self.parse(text), "\(text)")
            #expect(parsed.0 == expected)
            #expect(parsed.1 == text.utf8.count)
        }
    }

    @Test func aReplyCutAnywhereIsIncompleteAndTheRestIsLeft() throws {
        let text = "*2\r\n$3\r\nabc\r\n:7\r\n+NEXT\r\n"
        let first = text.utf8.count - "+NEXT\r\n".utf8.count
        let bytes = Array(text.utf8)
        for cut in 0..<first {
            #expect(try bytes[0..<cut].withUnsafeBytes { try RESP.parse($0) } == nil, "cut at \(cut)")
        }
        let whole = try #require(try bytes.withUnsafeBytes { try RESP.parse($0) })
        #expect(whole.0 == .array([.bulk(Array("abc".utf8)), .integer(7)]))
        #expect(whole.1 == first)
    }

    @Test func malformedRepliesAreProtocolErrors() {
        for bad in ["?x\r\n", ":12a\r\n", "$3\r\nabcde\r\n", "*x\r\n", String(repeating: "*1\r\n", count: 40) + ":1\r\n"] {
            #expect(throws: RedisError.self, "\(bad.debugDescription)") { try Self.parse(bad) }
        }
    }
}
