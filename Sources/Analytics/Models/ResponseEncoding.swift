import Foundation

/// The one JSON form of every cached response body, whether the API or the worker's
/// refresh-ahead computed it (so both store the same bytes and the same ETag).
public enum ResponseEncoding {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        // Sorted keys: the same figures give the same bytes, hence the same ETag, in every
        // process (a recomputation or another replica otherwise reorders keys per hash seed).
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    public static func encode(_ value: some Encodable) throws -> [UInt8] { Array(try encoder.encode(value)) }
}
