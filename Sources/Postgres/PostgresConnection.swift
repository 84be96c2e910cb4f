import CLibPQ
import ConnectionPool
import Foundation
import Synchronization

/// How to reach Postgres. `url` is a libpq connection URI; it is handed to libpq as a
/// keyword value (`dbname` with `expand_dbname`), never pasted into a conninfo string.
public struct PostgresConfiguration: Sendable {
    public var url: String
    public var connectTimeoutSeconds: Int
    /// Applied per connection as `statement_timeout`.
    public var statementTimeoutMs: Int
    public var applicationName: String

    public init(url: String, connectTimeoutSeconds: Int = 3, statementTimeoutMs: Int = 10_000, applicationName: String = "prpm-analytics") {
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMs = statementTimeoutMs
        self.applicationName = applicationName
    }
}

/// One libpq connection. Not thread-safe: used by one thread at a time (the pool sees to it).
public final class PostgresConnection: BlockingConnection, @unchecked Sendable {
    private var conn: OpaquePointer?
    /// SQL text → prepared statement name, per connection.
    private var prepared: [String: String] = [:]
    /// Names handed out for prepared statements (never reused, even when a PREPARE failed).
    private var statementNames = 0
    private var broken = false
    /// libpq's handle for cancel requests (thread-safe to use while a call runs).
    private var canceller: OpaquePointer?

    public init(configuration: PostgresConfiguration) throws {
        let options = "-c statement_timeout=\(configuration.statementTimeoutMs) -c TimeZone=UTC -c client_min_messages=warning"
        // TCP keepalives and a user timeout come first, so that the URL may override them: a
        // black-holed database host fails a call within about 30 s instead of pinning a pool
        // thread for the kernel's default of hours.
        let pairs: [(String, String)] = [
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
            ("tcp_user_timeout", "30000"),
            ("dbname", configuration.url),
            ("connect_timeout", String(configuration.connectTimeoutSeconds)),
            ("application_name", configuration.applicationName),
            ("options", options),
        ]
        conn = withCStrings(pairs.map(\.0)) { keys in
            withCStrings(pairs.map(\.1)) { values in
                PQconnectdbParams(keys, values, 1)
            }
        }
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            self.conn = nil
            throw PostgresError.connection(message.trimmingTrailingNewlines)
        }
        canceller = PQgetCancel(conn)
    }

    deinit { close() }

    /// The value of a connection option as libpq uses it (after defaults and the URL).
    public func option(_ keyword: String) -> String? {
        guard let conn, let options = PQconninfo(conn) else { return nil }
        defer { PQconninfoFree(options) }
        var index = 0
        while let name = options[index].keyword {
            if String(cString: name) == keyword { return options[index].val.map { String(cString: $0) } }
            index += 1
        }
        return nil
    }

    public var isUsable: Bool {
        guard let conn, !broken else { return false }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// An idle connection is alive while its socket has nothing to read: a server that closed it
    /// (a restart: a goodbye message, then EOF) makes it readable. Anything readable on an idle
    /// connection counts as closed (this client does not LISTEN); the pool opens a new one.
    public var isAlive: Bool {
        guard isUsable, let conn else { return false }
        let socket = PQsocket(conn)
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    public func close() {
        if let canceller { PQfreeCancel(canceller) }
        canceller = nil
        if let conn { PQfinish(conn) }
        conn = nil
    }

    /// Sends a cancel request for the statement running now: the server stops it, and the
    /// call running on this connection fails with `57014 query_canceled`.
    public func interrupt() {
        guard let canceller else { return }
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(canceller, &message, Int32(message.count))
    }

    /// Runs one statement with text parameters (`$1`, `$2`, …).
    /// With `prepare`, the statement is prepared once per connection and reused.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = [], prepare: Bool = false) throws -> PostgresRows {
        guard let conn else { throw PostgresError.connection("connection closed") }
        PostgresStatistics.statements.add(1, ordering: .relaxed)
        let texts = parameters.map(\.postgresText)
        if prepare, prepared[sql] == nil {
            let name = newStatementName()
            let result = PQprepare(conn, name, sql, Int32(parameters.count), nil)
            _ = try consume(result)
            prepared[sql] = name
        }
        let result = withOptionalCStrings(texts) { values -> OpaquePointer? in
            if let name = prepared[sql], prepare {
                return PQexecPrepared(conn, name, Int32(texts.count), values, nil, nil, 0)
            }
            return PQexecParams(conn, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs prepared `statements` in one `REPEATABLE READ READ ONLY` transaction (every statement
    /// of an answer reads the same snapshot, so its parts agree under concurrent writes) and one
    /// round trip: libpq's pipeline mode sends BEGIN, each statement (and its PREPARE the first
    /// time on this connection) and COMMIT before reading a result. Returns each statement's rows
    /// in order; throws the first error (the transaction is then rolled back).
    public func readOnlySnapshot(_ statements: [PostgresStatement]) throws -> [PostgresRows] {
        try pipeline(statements, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }

    private func newStatementName() -> String {
        defer { statementNames += 1 }
        return "s\(statementNames)"
    }

    /// Runs prepared `statements` between `begin` and COMMIT in one round trip (pipeline mode).
    private func pipeline(_ statements: [PostgresStatement], begin: String) throws -> [PostgresRows] {
        guard let conn else { throw PostgresError.connection("connection closed") }
        PostgresStatistics.statements.add(statements.count + 2, ordering: .relaxed)
        guard PQenterPipelineMode(conn) == 1 else {
            broken = true
            throw PostgresError.connection(lastError)
        }
        // What each result of the pipeline is, in the order they come back.
        enum Expected {
            case control
            case prepare(sql: String, name: String)
            case rows
        }
        var expected: [Expected] = []
        var sendFailed = false
        func sent(_ ok: Int32, _ what: Expected) {
            if ok == 1 { expected.append(what) } else { sendFailed = true }
        }
        sent(PQsendQueryParams(conn, begin, 0, nil, nil, nil, nil, 0), .control)
        for statement in statements where !sendFailed {
            var name = prepared[statement.sql]
            if name == nil {
                let fresh = newStatementName()
                sent(PQsendPrepare(conn, fresh, statement.sql, Int32(statement.parameters.count), nil), .prepare(sql: statement.sql, name: fresh))
                name = fresh
            }
            let texts = statement.parameters
            let ok = withOptionalCStrings(texts) { values in PQsendQueryPrepared(conn, name, Int32(texts.count), values, nil, nil, 0) }
            sent(ok, .rows)
        }
        if !sendFailed { sent(PQsendQueryParams(conn, "COMMIT", 0, nil, nil, nil, nil, 0), .control) }
        if sendFailed || PQpipelineSync(conn) != 1 {
            broken = true
            throw PostgresError.connection(lastError)
        }
        var rows: [PostgresRows] = []
        var firstError: (any Error)?
        for item in expected {
            guard let result = PQgetResult(conn) else {
                broken = true
                throw PostgresError.connection(lastError)
            }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
            } else {
                do {
                    let consumed = try consume(result)
                    switch item {
                    case .rows: rows.append(consumed)
                    case .prepare(let sql, let name): prepared[sql] = name
                    case .control: break
                    }
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            // Each command's results end with a NULL.
            if PQgetResult(conn) != nil {
                broken = true
                throw PostgresError.connection("unexpected result in pipeline")
            }
        }
        guard let sync = PQgetResult(conn), PQresultStatus(sync) == PGRES_PIPELINE_SYNC else {
            broken = true
            throw PostgresError.connection(lastError)
        }
        PQclear(sync)
        guard PQexitPipelineMode(conn) == 1 else {
            broken = true
            throw PostgresError.connection(lastError)
        }
        if let firstError {
            if isUsable, PQtransactionStatus(conn) != PQTRANS_IDLE { try? execute("ROLLBACK") }
            throw firstError
        }
        return rows
    }

    /// Runs statements that take no parameters (several may be separated by semicolons).
    public func execute(_ sql: String) throws {
        guard let conn else { throw PostgresError.connection("connection closed") }
        PostgresStatistics.statements.add(1, ordering: .relaxed)
        var result = PQexec(conn, sql)
        // PQexec returns only the last result; errors stop the batch.
        _ = try consume(result)
        result = nil
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(begin: String = "BEGIN", _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(begin)
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isUsable { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `COPY … FROM STDIN` with the data produced chunk by chunk (text or CSV format as the SQL says).
    /// Returns the number of rows copied.
    @discardableResult
    public func copyIn(_ sql: String, chunks: (_ emit: (String) throws -> Void) throws -> Void) throws -> Int {
        guard let conn else { throw PostgresError.connection("connection closed") }
        PostgresStatistics.statements.add(1, ordering: .relaxed)
        let start = PQexec(conn, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try consume(start)
            throw PostgresError.connection("COPY did not start")
        }
        PQclear(start)
        var failure: (any Error)?
        do {
            try chunks { chunk in
                var chunk = chunk
                let rc = chunk.withUTF8 { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
                }
                if rc != 1 { throw PostgresError.connection(self.lastError) }
            }
        } catch {
            failure = error
        }
        PQputCopyEnd(conn, failure == nil ? nil : "aborted by client")
        var copied = 0
        var serverError: (any Error)?
        while let result = PQgetResult(conn) {
            do {
                copied += try consume(result).affectedRows
            } catch {
                serverError = serverError ?? error
            }
        }
        if let failure { throw failure }
        if let serverError { throw serverError }
        return copied
    }

    private var lastError: String {
        conn.map { String(cString: PQerrorMessage($0)).trimmingTrailingNewlines } ?? "connection closed"
    }

    /// Reads and frees a result; throws the server's error with its SQLSTATE.
    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            broken = true
            throw PostgresError.connection(lastError)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return PostgresRows(columns: [], values: [], affectedRows: affected)
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            let rowCount = Int(PQntuples(result))
            let columnCount = Int(PQnfields(result))
            let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
            var values: [[String?]] = []
            values.reserveCapacity(rowCount)
            for row in 0..<Int32(rowCount) {
                var items: [String?] = []
                items.reserveCapacity(columnCount)
                for column in 0..<Int32(columnCount) {
                    if PQgetisnull(result, row, column) == 1 {
                        items.append(nil)
                    } else {
                        items.append(String(cString: PQgetvalue(result, row, column)))
                    }
                }
                values.append(items)
            }
            return PostgresRows(columns: columns, values: values, affectedRows: rowCount)
        default:
            let message = String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            if PQstatus(conn) != CONNECTION_OK { broken = true }
            guard let state else {
                broken = true
                throw PostgresError.connection(message)
            }
            let error = PostgresError.server(sqlState: state, message: message)
            if error.isConnectionFailure { broken = true }
            throw error
        }
    }
}

/// A statement and its parameters (`$1`, `$2`, …), for `pipeline`.
public struct PostgresStatement: Sendable {
    public let sql: String
    /// The parameters in Postgres' text form (nil is NULL).
    public let parameters: [String?]

    public init(_ sql: String, _ parameters: [any PostgresEncodable] = []) {
        self.sql = sql
        self.parameters = parameters.map(\.postgresText)
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { UnsafePointer(strdup($0)) } + [nil]
    defer { for pointer in duplicated { free(UnsafeMutablePointer(mutating: pointer)) } }
    return duplicated.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Like `withCStrings`, with nil entries passed as NULL (SQL NULL parameters).
func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let duplicated = strings.map { $0.map { UnsafePointer(strdup($0)) } ?? nil }
    defer { for pointer in duplicated { free(UnsafeMutablePointer(mutating: pointer)) } }
    return duplicated.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Counts of this process's Postgres traffic (for tests that bound how many statements a
/// request costs, and for capacity figures).
public enum PostgresStatistics {
    /// Statements sent by every connection of the process (`query`, `execute`, `copyIn`).
    public static let statements = Atomic<Int>(0)
}
