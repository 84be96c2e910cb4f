/// A shared secret sent as `Authorization: Bearer <token>` (the ingestion token, the metrics
/// token), compared in constant time.
enum BearerToken {
    /// Whether `header` carries `token`; never for an empty (unset) token.
    static func matches(_ header: String?, _ token: String) -> Bool {
        guard !token.isEmpty, let header, header.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(String(header.dropFirst(7)), token)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
