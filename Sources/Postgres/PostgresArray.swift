/// A one-dimensional array parameter in Postgres' text form: `{"a","b",NULL}`.
/// Used with `unnest($1::uuid[], …)` to insert a whole batch with one statement.
public struct PostgresArray: PostgresEncodable {
    public let elements: [String?]

    public init(_ elements: [String?]) { self.elements = elements }

    public init<T: PostgresEncodable>(_ values: [T]) { self.elements = values.map(\.postgresText) }

    public var postgresText: String? {
        var text = "{"
        text.reserveCapacity(elements.count * 40)
        for (index, element) in elements.enumerated() {
            if index > 0 { text.append(",") }
            guard let element else {
                text.append("NULL")
                continue
            }
            text.append("\"")
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { text.append("\\") }
                text.unicodeScalars.append(character)
            }
            text.append("\"")
        }
        text.append("}")
        return text
    }
}
