import Foundation

/// The one JSON form of every cached response body, whether the API or the worker's
/// refresh-ahead computed it (so both store the same bytes and the same ETag): compact, keys
/// sorted at every level (the same figures give the same bytes in every process), written by
/// `SortedJSONEncoder`.
public enum ResponseEncoding {
    public static func encode(_ value: some Encodable) throws -> [UInt8] { try SortedJSONEncoder.encode(value) }
}
