import ConnectionPool
import Logging
import NIOPosix

/// A pool of libpq connections on a dedicated thread pool.
public final class PostgresClient: Sendable {
    public let configuration: PostgresConfiguration
    public let pool: BlockingPool<PostgresConnection>

    /// `name` labels the pool's metrics (`prpm_pool_connections{pool=…}`).
    public init(
        configuration: PostgresConfiguration, pool poolConfiguration: BlockingPool<PostgresConnection>.Configuration, threadPool: NIOThreadPool,
        name: String = "postgres"
    ) {
        self.configuration = configuration
        self.pool = BlockingPool(name: name, configuration: poolConfiguration, threadPool: threadPool) {
            try PostgresConnection(configuration: configuration)
        }
    }

    /// Runs `body` with a pooled connection on the blocking thread pool.
    /// A connection broken by a server restart is dropped and the call is retried once
    /// on a fresh connection when `retryOnBrokenConnection` is set (use it for reads).
    /// `acquireTimeout` and `onCancel` are the pool's (see `BlockingPool.withConnection`).
    public func withConnection<T: Sendable>(
        retryOnBrokenConnection: Bool = false, acquireTimeout: Duration? = nil, onCancel: CancellationPolicy = .interrupt,
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        do {
            return try await pool.withConnection(acquireTimeout: acquireTimeout, onCancel: onCancel, body)
        } catch let error as PostgresError where error.isConnectionFailure && retryOnBrokenConnection {
            // Other idle connections were most likely broken by the same restart.
            pool.drainIdle()
            return try await pool.withConnection(acquireTimeout: acquireTimeout, onCancel: onCancel, body)
        }
    }

    /// One read statement (prepared per connection), retried once on a fresh connection after a restart.
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await withConnection(retryOnBrokenConnection: true) { try $0.query(sql, parameters, prepare: true) }
    }

    public func shutdown() { pool.shutdown() }
}
