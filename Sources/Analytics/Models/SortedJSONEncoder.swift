import Foundation

/// Compact JSON with the keys of every object sorted by their UTF-8 bytes, for the response
/// models (`ResponseEncoding`). Foundation's `JSONEncoder` with `.sortedKeys` was 7 % of the
/// server's CPU under the full mix (`perf`, docs/performance.md): it boxes every value, checks
/// each one for its special types by dynamic casts and sorts keys with a locale-aware compare.
/// This one keeps scalars as they are in a small tree and writes it once.
///
/// Output follows `JSONEncoder`'s defaults: integers as written, doubles by their shortest
/// description without a trailing `.0`, non-finite doubles rejected; strings escaped as
/// JSON needs (no `\/`). Types encode themselves as usual (`Date`, `UUID`, `Data`,
/// dictionaries through their own `Encodable` conformance, not `JSONEncoder`'s strategies).
public enum SortedJSONEncoder {
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = try TreeEncoder.box(value, parent: nil, key: nil)
        var out: [UInt8] = []
        out.reserveCapacity(512)
        root.write(to: &out)
        return out
    }
}

/// One encoded value. Objects and arrays are boxes so containers can fill them after they
/// were handed out (nested containers, super encoders).
enum EncodedJSON {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case object(ObjectBox)
    case array(ArrayBox)

    final class ObjectBox {
        var members: [(key: String, value: EncodedJSON)]
        init() {
            members = []
            members.reserveCapacity(8)
        }
    }

    final class ArrayBox {
        var elements: [EncodedJSON] = []
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): Self.writeDecimal(value, to: &out)
        case .uint(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value):
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out.append(contentsOf: text.utf8)
        case .string(let value): Self.writeString(value, to: &out)
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            box.members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in box.members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    private static func writeDecimal(_ value: Int64, to out: inout [UInt8]) {
        if value >= 0 && value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        out.append(contentsOf: String(value).utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func writeString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings (keys, dates, names) need no escape: copied whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: value.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// The `Encoder` that builds an `EncodedJSON` tree. Its coding path (for error messages
/// only) is its parent's path and its key, walked when asked for: no array per value.
final class TreeEncoder: Encoder {
    let parent: TreeEncoder?
    let key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private(set) var value: EncodedJSON?

    init(parent: TreeEncoder?, key: (any CodingKey)?) {
        self.parent = parent
        self.key = key
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: TreeEncoder? = self
        while let current = node {
            if let key = current.key { path.append(key) }
            node = current.parent
        }
        return path.reversed()
    }

    /// A value encoded on its own (nested values, array elements, the root).
    static func box(_ value: some Encodable, parent: TreeEncoder?, key: (any CodingKey)?) throws -> EncodedJSON {
        let encoder = TreeEncoder(parent: parent, key: key)
        try value.encode(to: encoder)
        // A type that encoded nothing is an empty object, as with JSONEncoder.
        return encoder.value ?? .object(EncodedJSON.ObjectBox())
    }

    func set(_ value: EncodedJSON) { self.value = value }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: EncodedJSON.ObjectBox
        if case .object(let existing) = value {
            box = existing
        } else {
            box = EncodedJSON.ObjectBox()
            value = .object(box)
        }
        return KeyedEncodingContainer(ObjectContainer<Key>(box: box, encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: EncodedJSON.ArrayBox
        if case .array(let existing) = value {
            box = existing
        } else {
            box = EncodedJSON.ArrayBox()
            value = .array(box)
        }
        return ArrayContainer(box: box, encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(encoder: self) }

    /// A finite double; NaN and infinities are not JSON.
    func double(_ value: Double, key: (any CodingKey)?) throws -> EncodedJSON {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath + (key.map { [$0] } ?? []), debugDescription: "\(value) is not valid JSON"))
        }
        return .double(value)
    }

    /// An encoder whose value is `nested` (nested containers and super encoders).
    func child(_ key: (any CodingKey)?, holding nested: EncodedJSON) -> TreeEncoder {
        let encoder = TreeEncoder(parent: self, key: key)
        encoder.value = nested
        return encoder
    }
}

private struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodedJSON.ObjectBox
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func put(_ value: EncodedJSON, _ key: Key) { box.members.append((key.stringValue, value)) }

    mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try encoder.double(value, key: key), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try encoder.double(Double(value), key: key), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.uint(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.uint(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(try TreeEncoder.box(value, parent: encoder, key: key), key) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedJSON.ObjectBox()
        put(.object(nested), key)
        return KeyedEncodingContainer(ObjectContainer<NestedKey>(box: nested, encoder: encoder.child(key, holding: .object(nested))))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodedJSON.ArrayBox()
        put(.array(nested), key)
        return ArrayContainer(box: nested, encoder: encoder.child(key, holding: .array(nested)))
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super", key: nil) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue, key: key) }

    private func superEncoder(named name: String, key: Key?) -> any Encoder {
        let nested = EncodedJSON.ObjectBox()
        box.members.append((name, .object(nested)))
        return encoder.child(key, holding: .object(nested))
    }
}

private struct ArrayContainer: UnkeyedEncodingContainer {
    let box: EncodedJSON.ArrayBox
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { box.elements.count }

    private var nextKey: IndexKey { IndexKey(intValue: count) }
    private func add(_ value: EncodedJSON) { box.elements.append(value) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(try encoder.double(value, key: nextKey)) }
    mutating func encode(_ value: Float) throws { add(try encoder.double(Double(value), key: nextKey)) }
    mutating func encode(_ value: Int) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.int(value)) }
    mutating func encode(_ value: UInt) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { add(.uint(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { add(try TreeEncoder.box(value, parent: encoder, key: nextKey)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        let nested = EncodedJSON.ObjectBox()
        add(.object(nested))
        return KeyedEncodingContainer(ObjectContainer<NestedKey>(box: nested, encoder: encoder.child(key, holding: .object(nested))))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        let nested = EncodedJSON.ArrayBox()
        add(.array(nested))
        return ArrayContainer(box: nested, encoder: encoder.child(key, holding: .array(nested)))
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        let nested = EncodedJSON.ObjectBox()
        add(.object(nested))
        return encoder.child(key, holding: .object(nested))
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.set(.null) }
    mutating func encode(_ value: Bool) throws { encoder.set(.bool(value)) }
    mutating func encode(_ value: String) throws { encoder.set(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.set(try encoder.double(value, key: nil)) }
    mutating func encode(_ value: Float) throws { encoder.set(try encoder.double(Double(value), key: nil)) }
    mutating func encode(_ value: Int) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { encoder.set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { encoder.set(.int(value)) }
    mutating func encode(_ value: UInt) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { encoder.set(.uint(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { encoder.set(.uint(value)) }
    // The value's own encoding fills this encoder (a wrapper such as `Nullable` passes its value on).
    mutating func encode<T: Encodable>(_ value: T) throws { try value.encode(to: encoder) }
}

/// The coding key of an array element (error paths only).
private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
