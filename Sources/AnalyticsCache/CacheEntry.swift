import Foundation

/// What is stored in Redis: the response bytes exactly as served, with the time of the
/// snapshot they were computed from (taken before the computation started), how long the
/// computation took, and their strong ETag, so that a hit is one GET and no JSON work.
///
/// Layout: `<snapshotMillis> <etag> <computeMillis>\n<body>` (the store script reads the
/// leading number to keep the newest snapshot).
public struct CacheEntry: Sendable, Equatable {
    public let body: [UInt8]
    /// Milliseconds since 1970: every write acknowledged before it is in `body`.
    public let snapshot: Int64
    public let computeMillis: Int64
    public let etag: String

    public init(body: [UInt8], snapshot: Int64, computeMillis: Int64 = 0) {
        self.init(body: body, snapshot: snapshot, computeMillis: computeMillis, etag: ETag.strong(body))
    }

    public init(body: [UInt8], computedAt: Date) {
        self.init(body: body, snapshot: CacheClock.snapshot(computedAt))
    }

    init(body: [UInt8], snapshot: Int64, computeMillis: Int64, etag: String) {
        self.body = body
        self.snapshot = snapshot
        self.computeMillis = computeMillis
        self.etag = etag
    }

    public var computedAt: Date { Date(timeIntervalSince1970: Double(snapshot) / 1000) }

    public var serialized: [UInt8] {
        var bytes = Array("\(snapshot) \(etag) \(computeMillis)\n".utf8)
        bytes.append(contentsOf: body)
        return bytes
    }

    public init?(serialized bytes: [UInt8]) {
        guard let newline = bytes.firstIndex(of: 10) else { return nil }
        let fields = bytes[..<newline].split(separator: 32)
        guard fields.count >= 2, let snapshot = Int64(String(decoding: fields[0], as: UTF8.self)) else { return nil }
        let computeMillis = fields.count > 2 ? Int64(String(decoding: fields[2], as: UTF8.self)) ?? 0 : 0
        self.init(
            body: Array(bytes[(newline + 1)...]), snapshot: snapshot, computeMillis: computeMillis,
            etag: String(decoding: fields[1], as: UTF8.self))
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
