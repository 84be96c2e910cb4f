import NIOCore

/// The `hostile` scenario (issue 27 item 11): what strangers on the internet send a public
/// service, beside its real traffic. Every request claims one of the profile's
/// `hostile_clients` addresses in `X-Forwarded-For`, so a server that trusts this machine as
/// its proxy (`TRUSTED_PROXIES=127.0.0.1`, `RATE_LIMIT_EXEMPT=127.0.0.1`) judges them as the
/// strangers they stand for, while the normal mix (no header) stays this machine's. None may
/// get a 5xx: the right answers are 200, 4xx and 429.
enum Hostile {
    /// `count` client addresses: even ones IPv4 (TEST-NET-3), odd ones an IPv6 /64 each
    /// (documentation prefix), with varying host bits inside it.
    static func clients(_ count: Int) -> [String] {
        (0..<count).map { index in
            index % 2 == 0 ? "203.0.113.\(index / 2 % 254 + 1)" : "2001:db8:\(String(index / 2, radix: 16))::"
        }
    }

    static let nameCharacters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)
    static let labelCharacters = Array("abcdefghijklmnopqrstuvwxyz0123456789 -_.".utf8)
    static let junkDays = ["0", "-1", "366", "99999999999999999999", "abc", "7.5", "%00", "1e3", ""]

    static func text(_ length: Int, from alphabet: [UInt8], using rng: inout SeededRandom) -> String {
        var bytes = [UInt8](repeating: 0, count: length)
        for i in 0..<length { bytes[i] = alphabet[rng.nextInt(alphabet.count)] }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension MixPlan {
    /// One hostile request, as the kinds the issue names, in equal parts.
    func hostileRequest(_ buffer: inout ByteBuffer, using rng: inout SeededRandom) {
        let path: String
        switch rng.nextInt(7) {
        case 0:  // an unknown package by name, 1 byte to 8 KB, as JSON or as a page
            let name = Hostile.text(1 + rng.nextInt(8192), from: Hostile.nameCharacters, using: &rng)
            path = (rng.next() & 1 == 0 ? "/api/v1/analytics/package/" : "/packages/") + name
        case 1:  // a real package in any window
            path = packageByID[zipf.sample(using: &rng)] + "?days=\(1 + rng.nextInt(365))"
        case 2:  // popular in any window and length
            path = "/api/v1/analytics/popular?days=\(1 + rng.nextInt(365))&limit=\(1 + rng.nextInt(100))"
        case 3:  // a badge with a label of its own (over 256 characters: refused)
            let label = Hostile.text(1 + rng.nextInt(400), from: Hostile.labelCharacters, using: &rng)
            path = packageByID[zipf.sample(using: &rng)] + "/badge/runs.svg?label=" + percentEncodePathSegment(label)
        case 4:  // a readiness flood
            path = "/readyz"
        case 5:  // windows that are not numbers of days
            path = packageByID[zipf.sample(using: &rng)] + "?days=" + Hostile.junkDays[rng.nextInt(Hostile.junkDays.count)]
        default:  // limits out of range
            path = "/api/v1/analytics/trending?limit=\(rng.nextInt(300))"
        }
        head(&buffer, "GET", path, query: nil)
        buffer.writeStaticString("X-Forwarded-For: ")
        buffer.writeString(hostileClients[rng.nextInt(hostileClients.count)])
        buffer.writeStaticString("\r\n\r\n")
    }
}
