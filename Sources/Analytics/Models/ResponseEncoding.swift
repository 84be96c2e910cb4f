import Foundation

/// The one JSON form of every cached response body, whether the API or the worker's
/// refresh-ahead computed it (so both store the same bytes and the same ETag).
public enum ResponseEncoding {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    public static func encode(_ value: some Encodable) throws -> [UInt8] { Array(try encoder.encode(value)) }
}
