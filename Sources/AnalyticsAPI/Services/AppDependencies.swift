import AnalyticsRuntime
import Logging

/// What `serve` runs on: the process runtime (Postgres, Redis, cache; reachable directly,
/// e.g. `dependencies.postgres`) and the HTTP settings.
@dynamicMemberLookup
public final class AppDependencies: Sendable {
    public let config: AppConfig
    public let runtime: Runtime
    /// Set when SIGTERM starts the drain (`/readyz` then answers 503).
    public let drain = DrainState()

    public struct ConfigurationError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(config: AppConfig, logger: Logger) throws {
        // HS256 keys shorter than the hash output are weak (and jwt-kit asserts on them).
        guard config.jwtSecret.utf8.count >= 32 else {
            throw ConfigurationError(description: "JWT_SECRET must be at least 32 bytes long")
        }
        self.config = config
        runtime = try Runtime(config: config.runtime, logger: logger)
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<Runtime, Value>) -> Value { runtime[keyPath: keyPath] }

    public func shutdown() async { await runtime.shutdown() }
}
