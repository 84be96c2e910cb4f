import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An IPv4 or IPv6 address as its bytes (4 or 16). An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`) is the IPv4 address it maps, so a client has one identity on a
/// dual-stack listener.
struct IPAddress: Hashable, Sendable {
    let bytes: [UInt8]

    init?(_ text: some StringProtocol) {
        // A zone (`fe80::1%eth0`) names an interface, not a different host.
        let address = String(text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        // Only the characters of an address: inet_pton would read a C string up to a NUL.
        guard !address.isEmpty, address.utf8.count <= 64, address.utf8.allSatisfy({ Self.allowed.contains($0) }) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return nil }
        let all = withUnsafeBytes(of: &v6) { Array($0) }
        let mapped = all.prefix(10).allSatisfy { $0 == 0 } && all[10] == 0xFF && all[11] == 0xFF
        bytes = mapped ? Array(all.suffix(4)) : all
    }

    private static let allowed = Set("0123456789abcdefABCDEF:.".utf8)

    var isIPv4: Bool { bytes.count == 4 }

    /// What a client is counted under (rate limit, connections): an IPv4 address whole, an
    /// IPv6 address by its /64, the smallest block a single subscriber is normally given (a
    /// host can pick any of 2^64 addresses in it).
    var clientKey: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}

/// An address block (`127.0.0.0/8`, `::1`, `2001:db8::/32`); an address alone is a block of one.
struct AddressRange: Sendable, Equatable {
    let base: IPAddress
    let prefixLength: Int

    init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let base = IPAddress(parts[0]) else { return nil }
        let bits = base.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.base = base
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == base.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, base.bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            guard a & mask == b & mask else { return false }
            remaining -= 8
        }
        return true
    }
}

/// A list of address blocks, from a comma-separated setting.
struct AddressRanges: Sendable, Equatable {
    var ranges: [AddressRange]

    /// This machine: traffic from it (a load test, a local monitor) is not limited per client.
    static let loopback = AddressRanges(ranges: [AddressRange("127.0.0.0/8")!, AddressRange("::1")!])

    init(ranges: [AddressRange]) { self.ranges = ranges }

    /// Nil when an item is not an address or block.
    init?(parsing list: String) {
        var ranges: [AddressRange] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let range = AddressRange(item) else { return nil }
            ranges.append(range)
        }
        self.ranges = ranges
    }

    func contains(_ address: IPAddress) -> Bool { ranges.contains { $0.contains(address) } }
}

/// Who a request comes from, as the edge judges it.
enum ClientAddress {
    /// The peer's address; for a trusted proxy's request, the nearest address in
    /// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends its peer, so a
    /// client cannot choose its identity by writing addresses in front).
    static func resolve(_ peer: SocketAddress?, forwardedFor: String?, trustedProxies: Set<String>) -> String? {
        guard let peer = peer?.ipAddress else { return nil }
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let hop = hops.last(where: { !trustedProxies.contains($0) }) ?? hops.first, IPAddress(hop) != nil else { return peer }
        return hop
    }
}

/// Which requests the per-client limits count, and under which key: the rate limit and the
/// window budget judge a client the same way. Not counted: the ingestion token (a collector
/// sends for many users from few addresses), requests without a peer address, and clients in
/// `exempt`.
struct CountedClients: Sendable {
    var trustedProxies: Set<String> = []
    var exempt: AddressRanges = .loopback
    var ingestToken = ""

    /// The bucket key of `request`'s client, or nil when it is not counted.
    func key(_ request: Request, peer: SocketAddress?) -> String? {
        guard !BearerToken.matches(request.headers[.authorization], ingestToken) else { return nil }
        return Self.key(peer, forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trustedProxies: trustedProxies, exempt: exempt)
    }

    /// The client's key (`ClientAddress.resolve`, an IPv6 address by its /64), or nil when it
    /// is not counted: no peer address, or a client in `exempt`.
    static func key(
        _ peer: SocketAddress?, forwardedFor: String? = nil, trustedProxies: Set<String> = [], exempt: AddressRanges = .init(ranges: [])
    ) -> String? {
        guard let client = ClientAddress.resolve(peer, forwardedFor: forwardedFor, trustedProxies: trustedProxies) else { return nil }
        guard let ip = IPAddress(client) else { return client }
        return exempt.contains(ip) ? nil : ip.clientKey
    }
}
