/// The server under test: `http://HOST:PORT`, restricted to this machine (loopback only).
public struct Target: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// The value of the `Host` request header.
    public let hostHeader: String

    public var description: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    public init(host: String, port: Int) throws(LoadTestError) {
        guard Target.isLoopback(host) else {
            throw .config("refusing target host '\(host)': only 127.x.x.x, localhost or ::1 may be load tested")
        }
        guard (1...65535).contains(port) else { throw .config("invalid port \(port)") }
        self.host = host
        self.port = port
        self.hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Parses `http://127.0.0.1:8080`, `http://localhost:8080/`, `http://[::1]:8080`. Only plain http, no path.
    public init(url: String) throws(LoadTestError) {
        var rest = Substring(url)
        guard rest.hasPrefix("http://") else {
            throw .config("target must start with http:// (got '\(url)')")
        }
        rest = rest.dropFirst("http://".count)
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[slash...]
            guard path == "/" else { throw .config("target must not contain a path (got '\(path)'); use --path") }
            rest = rest[..<slash]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .config("unterminated IPv6 literal in '\(url)'") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw .config("invalid target '\(url)'")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        if host.isEmpty { throw .config("missing host in '\(url)'") }
        var port = 80
        if let portText {
            guard let value = Int(portText) else { throw .config("invalid port in '\(url)'") }
            port = value
        }
        try self.init(host: String(host), port: port)
    }

    /// True for 127.0.0.0/8 dotted quads, `localhost` and `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(part), value <= 255
            else { return false }
            octets.append(value)
        }
        return octets[0] == 127
    }
}

/// Errors of the harness. `config` maps to exit code 2, `runtime` to 3.
public enum LoadTestError: Error, CustomStringConvertible, Equatable {
    case config(String)
    case runtime(String)

    public var description: String {
        switch self {
        case .config(let message): "configuration error: \(message)"
        case .runtime(let message): "run error: \(message)"
        }
    }
}
