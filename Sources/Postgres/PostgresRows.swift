/// A fully read result: column names and text values, decoded on access.
public struct PostgresRows: Sendable, Sequence {
    public let columns: [String]
    public let values: [[String?]]
    /// Rows changed by an INSERT/UPDATE/DELETE (PQcmdTuples), 0 otherwise.
    public let affectedRows: Int

    public init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
    }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    public var first: PostgresRow? { values.isEmpty ? nil : PostgresRow(columns: columns, values: values[0]) }

    public func makeIterator() -> some IteratorProtocol<PostgresRow> {
        values.lazy.map { PostgresRow(columns: columns, values: $0) }.makeIterator()
    }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    public let columns: [String]
    public let values: [String?]

    func index(of column: String) throws -> Int {
        guard let index = columns.firstIndex(of: column) else { throw PostgresError.missingColumn(column) }
        return index
    }

    /// The raw text of a column (nil for NULL).
    public func text(_ column: String) throws -> String? { values[try index(of: column)] }

    /// Decodes a non-NULL column.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decode(column, as: T?.self) else {
            throw PostgresError.decoding(column: column, value: nil, type: String(describing: T.self))
        }
        return value
    }

    /// Decodes a column that may be NULL.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type = T?.self) throws -> T? {
        guard let text = values[try index(of: column)] else { return nil }
        do {
            return try T(postgresText: text)
        } catch {
            throw PostgresError.decoding(column: column, value: text, type: String(describing: T.self))
        }
    }
}
