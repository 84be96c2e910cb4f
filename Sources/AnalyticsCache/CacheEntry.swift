import Foundation

/// What is stored in Redis: the response bytes exactly as served, with the time they were
/// computed and their strong ETag, so that a hit is one GET and no JSON work.
///
/// Layout: `<computedAtMillis> <etag>\n<body>`.
public struct CacheEntry: Sendable, Equatable {
    public let body: [UInt8]
    public let computedAt: Date
    public let etag: String

    public init(body: [UInt8], computedAt: Date) {
        self.body = body
        self.computedAt = computedAt
        self.etag = ETag.strong(body)
    }

    init(body: [UInt8], computedAt: Date, etag: String) {
        self.body = body
        self.computedAt = computedAt
        self.etag = etag
    }

    public var serialized: [UInt8] {
        var bytes = Array("\(Int64((computedAt.timeIntervalSince1970 * 1000).rounded())) \(etag)\n".utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    public init?(serialized bytes: [UInt8]) {
        guard let newline = bytes.firstIndex(of: 10), let space = bytes[..<newline].firstIndex(of: 32),
            let millis = Int64(String(decoding: bytes[..<space], as: UTF8.self))
        else { return nil }
        self.init(
            body: Array(bytes[(newline + 1)...]), computedAt: Date(timeIntervalSince1970: Double(millis) / 1000),
            etag: String(decoding: bytes[(space + 1)..<newline], as: UTF8.self))
    }

    public func age(now: Date) -> TimeInterval { now.timeIntervalSince(computedAt) }
}

/// Strong entity tags: a 64-bit FNV-1a digest of the exact bytes, quoted.
public enum ETag {
    public static func strong(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    /// True when an `If-None-Match` header value matches `etag` (a list, or `*`).
    public static func matches(ifNoneMatch header: String?, etag: String) -> Bool {
        guard let header else { return false }
        if header.trimmingCharacters(in: .whitespaces) == "*" { return true }
        return header.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }
}
