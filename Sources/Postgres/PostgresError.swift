/// Typed errors of the Postgres client.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// Could not connect, or the connection broke (server down or restarted).
    case connection(String)
    /// The server rejected a statement; `sqlState` is the five-character SQLSTATE.
    case server(sqlState: String, message: String)
    /// A value in a result could not be decoded to the requested type.
    case decoding(column: String, value: String?, type: String)
    /// A column asked for by name is not in the result.
    case missingColumn(String)

    public var sqlState: String? {
        if case .server(let state, _) = self { return state }
        return nil
    }

    /// True when retrying on a fresh connection can succeed.
    public var isConnectionFailure: Bool {
        switch self {
        case .connection: return true
        case .server(let state, _):
            // 08xxx connection exceptions, 57P01..57P03 admin shutdown / crash / cannot connect now.
            return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .connection(let message): return "postgres connection error: \(message)"
        case .server(let state, let message): return "postgres error \(state): \(message)"
        case .decoding(let column, let value, let type): return "cannot decode column \(column) value \(value ?? "NULL") as \(type)"
        case .missingColumn(let name): return "no column \(name) in result"
        }
    }
}

extension PostgresError {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let queryCanceled = "57014"
}
