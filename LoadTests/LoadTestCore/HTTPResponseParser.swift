import NIOCore

/// A minimal incremental HTTP/1.1 response parser: status, Content-Length / chunked bodies, `Connection`,
/// `X-Cache`. Bodies are skipped unless `collectBody` is set. No allocation per response on the fast path.
struct HTTPResponseParser {
    struct Response {
        var status: Int
        var cache: CacheResult
        var keepAlive: Bool
        var body: [UInt8]
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    enum State {
        case statusLine, headers, body(remaining: Int), chunkSize, chunkData(remaining: Int), chunkDataEnd, trailers, untilClose
    }

    var state = State.statusLine
    let collectBody: Bool
    var status = 0
    var contentLength: Int?
    var chunked = false
    var cache = CacheResult.none
    var keepAlive = true
    var body: [UInt8] = []
    /// Part of a line split across reads.
    var carry: [UInt8] = []

    init(collectBody: Bool = false) {
        self.collectBody = collectBody
    }

    /// Whether bytes of an unfinished response were consumed.
    var isMidResponse: Bool {
        if case .statusLine = state { return !carry.isEmpty }
        return true
    }

    /// Consumes all readable bytes of `buffer`, calling `emit` for each complete response.
    mutating func feed(_ buffer: ByteBuffer, emit: (Response) -> Void) throws {
        var failure: (any Error)?
        buffer.withUnsafeReadableBytes { bytes in
            do { try self.parse(bytes, emit: emit) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The connection closed: a body delimited by the close completes here.
    mutating func finishAtEOF(emit: (Response) -> Void) {
        if case .untilClose = state {
            emit(Response(status: status, cache: cache, keepAlive: false, body: body))
            reset()
        }
    }

    private mutating func reset() {
        state = .statusLine
        status = 0
        contentLength = nil
        chunked = false
        cache = .none
        keepAlive = true
        if collectBody { body = [] }
    }

    private mutating func complete(_ emit: (Response) -> Void) {
        emit(Response(status: status, cache: cache, keepAlive: keepAlive, body: body))
        reset()
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer, emit: (Response) -> Void) throws {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .body(let remaining):
                let take = min(remaining, n - i)
                if collectBody { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])) }
                i += take
                if take == remaining { complete(emit) } else { state = .body(remaining: remaining - take) }
            case .chunkData(let remaining):
                let take = min(remaining, n - i)
                if collectBody { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])) }
                i += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .untilClose:
                if collectBody { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<n])) }
                i = n
            case .statusLine, .headers, .chunkSize, .chunkDataEnd, .trailers:
                var end = i
                while end < n && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                if end == n {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<n]))
                    if carry.count > 64 * 1024 { throw ParseError(description: "header line too long") }
                    return
                }
                if carry.isEmpty {
                    try line(UnsafeRawBufferPointer(rebasing: bytes[i..<end]), emit: emit)
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<end]))
                    let joined = carry
                    carry.removeAll(keepingCapacity: true)
                    try joined.withUnsafeBytes { raw in try line(raw, emit: emit) }
                }
                i = end + 1
            }
        }
    }

    private mutating func line(_ raw: UnsafeRawBufferPointer, emit: (Response) -> Void) throws {
        var count = raw.count
        if count > 0 && raw[count - 1] == UInt8(ascii: "\r") { count -= 1 }
        let text = UnsafeRawBufferPointer(rebasing: raw[0..<count])
        switch state {
        case .statusLine:
            if count == 0 { return }  // tolerate stray CRLF between responses
            // "HTTP/1.1 200 OK"
            guard count >= 12, text[0] == UInt8(ascii: "H"), text[1] == UInt8(ascii: "T"), text[2] == UInt8(ascii: "T"),
                text[3] == UInt8(ascii: "P"), text[4] == UInt8(ascii: "/"), text[8] == UInt8(ascii: " ")
            else {
                throw ParseError(description: "malformed status line")
            }
            var code = 0
            for k in 9..<12 {
                let d = Int(text[k]) - 48
                guard (0...9).contains(d) else { throw ParseError(description: "malformed status code") }
                code = code * 10 + d
            }
            status = code
            keepAlive = !(text[5] == UInt8(ascii: "1") && text[7] == UInt8(ascii: "0"))  // HTTP/1.0 closes by default
            state = .headers
        case .headers:
            if count == 0 {
                endOfHeaders(emit)
                return
            }
            try header(text)
        case .chunkSize:
            var size = 0
            var k = 0
            while k < count {
                let c = text[k]
                let v: Int
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(c) - 48
                case UInt8(ascii: "a")...UInt8(ascii: "f"): v = Int(c) - 87
                case UInt8(ascii: "A")...UInt8(ascii: "F"): v = Int(c) - 55
                default: v = -1
                }
                if v < 0 { break }
                size = size * 16 + v
                if size > 1 << 40 { throw ParseError(description: "chunk too large") }
                k += 1
            }
            if k == 0 { throw ParseError(description: "malformed chunk size") }
            state = size == 0 ? .trailers : .chunkData(remaining: size)
        case .chunkDataEnd:
            guard count == 0 else { throw ParseError(description: "missing CRLF after chunk") }
            state = .chunkSize
        case .trailers:
            if count == 0 { complete(emit) }
        case .body, .chunkData, .untilClose:
            break
        }
    }

    private mutating func endOfHeaders(_ emit: (Response) -> Void) {
        if status < 200 {
            // Interim 1xx response: the real one follows.
            reset()
            return
        }
        if status == 204 || status == 304 {
            complete(emit)
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            if contentLength == 0 { complete(emit) } else { state = .body(remaining: contentLength) }
        } else {
            keepAlive = false
            state = .untilClose
        }
    }

    private static func nameIs(_ text: UnsafeRawBufferPointer, _ length: Int, _ lowercase: StaticString) -> Bool {
        guard length == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for k in 0..<length where text[k] | 0x20 != expected[k] {
            return false
        }
        return true
    }

    private mutating func header(_ text: UnsafeRawBufferPointer) throws {
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")) else { throw ParseError(description: "malformed header") }
        var v = colon + 1
        while v < text.count && (text[v] == UInt8(ascii: " ") || text[v] == UInt8(ascii: "\t")) { v += 1 }
        let value = UnsafeRawBufferPointer(rebasing: text[v..<text.count])
        switch colon {
        case 7 where Self.nameIs(text, colon, "x-cache"):
            switch value.first.map({ $0 | 0x20 }) {
            case UInt8(ascii: "h"): cache = .hit
            case UInt8(ascii: "m"): cache = .miss
            case UInt8(ascii: "s"): cache = .stale
            case UInt8(ascii: "b"): cache = .bypass
            default: break
            }
        case 10 where Self.nameIs(text, colon, "connection"):
            if Self.contains(value, "close") { keepAlive = false } else if Self.contains(value, "keep-alive") { keepAlive = true }
        case 14 where Self.nameIs(text, colon, "content-length"):
            var length = 0
            var digits = 0
            for c in value {
                if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { break }
                guard c >= 48 && c <= 57 else { throw ParseError(description: "malformed content-length") }
                length = length * 10 + Int(c - 48)
                digits += 1
                if digits > 15 { throw ParseError(description: "content-length too large") }
            }
            guard digits > 0 else { throw ParseError(description: "empty content-length") }
            contentLength = length
        case 17 where Self.nameIs(text, colon, "transfer-encoding"):
            if Self.contains(value, "chunked") { chunked = true }
        default:
            break
        }
    }

    /// Case-insensitive substring test of an ASCII lowercase needle.
    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let m = needle.utf8CodeUnitCount
        guard haystack.count >= m else { return false }
        let p = needle.utf8Start
        outer: for start in 0...(haystack.count - m) {
            for k in 0..<m where haystack[start + k] | 0x20 != p[k] {
                continue outer
            }
            return true
        }
        return false
    }
}

extension HTTPResponseParser {
    /// Convenience for tests: feeds raw bytes.
    mutating func feed(bytes: [UInt8], emit: (Response) -> Void) throws {
        try feed(ByteBuffer(bytes: bytes), emit: emit)
    }
}
