import AnalyticsRuntime
import Logging
import ServiceLifecycle

/// What `serve` runs on: the process runtime (Postgres, Redis, cache; reachable directly,
/// e.g. `dependencies.postgres`) and the HTTP settings.
@dynamicMemberLookup
public final class AppDependencies: Sendable {
    public let config: AppConfig
    public let runtime: Runtime
    /// Set when SIGTERM starts the drain (`/readyz` then answers 503).
    public let drain = DrainState()
    /// The access log's buffer (`RequestMiddleware` fills it, `AccessLogService` writes it).
    public let accessLog: AccessLog

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
        // After the runtime, which bootstraps metrics (its dropped-lines counter).
        accessLog = AccessLog()
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<Runtime, Value>) -> Value { runtime[keyPath: keyPath] }

    /// The background services of `serve`, for its `ServiceGroup` before the HTTP application
    /// (a group shuts its services down in reverse order: these stop after the server): the
    /// runtime's loops (`Runtime.backgroundServices`), the hot-read flush and the access log.
    public var backgroundServices: [any Service] {
        runtime.backgroundServices + [HotReadService(recorder: runtime.hotReads), AccessLogService(log: accessLog)]
    }

    /// Closes the runtime's clients: after the service group has finished.
    public func shutdown() async { await runtime.shutdown() }
}

extension AppDependencies: ShutdownAwaitable {}
