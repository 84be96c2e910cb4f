import Foundation

/// Where Redis is and how long to wait for it.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var database: Int
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    /// With Sentinel: the sentinels to ask (in order) and the name of the primary they watch.
    /// The client asks them where the primary is, checks that it is one (`ROLE`) and follows
    /// their `+switch-master` announcements; `host`/`port` are then not used.
    public var sentinels: [Endpoint] = []
    public var sentinelMaster: String?

    /// The primary's name when the sentinels are to be asked (both are set).
    var sentinelPrimary: String? { sentinels.isEmpty ? nil : sentinelMaster }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port,host:port` (as `REDIS_SENTINELS`); nil when an entry is malformed.
        public static func list(_ text: String) -> [Endpoint]? {
            var endpoints: [Endpoint] = []
            for item in text.split(separator: ",") {
                let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ":")
                guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
                endpoints.append(Endpoint(host: String(parts[0]), port: port))
            }
            return endpoints.isEmpty ? nil : endpoints
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, connectTimeout: Duration = .milliseconds(200),
        commandTimeout: Duration = .milliseconds(200)
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Parses `redis://host:port/db` (port 6379 and db 0 by default).
    public init(url: String, connectTimeout: Duration = .milliseconds(200), commandTimeout: Duration = .milliseconds(200)) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL(url)
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard path.isEmpty || Int(path) != nil else { throw RedisError.invalidURL(url) }
        self.init(
            host: host, port: components.port ?? 6379, database: Int(path) ?? 0, connectTimeout: connectTimeout,
            commandTimeout: commandTimeout)
    }
}
