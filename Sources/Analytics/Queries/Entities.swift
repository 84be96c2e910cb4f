import Foundation

/// A package resolved from a UUID or a name.
public struct PackageRef: Sendable, Equatable, Hashable {
    public let id: UUID
    public let name: String
    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

/// An organization the caller may read.
public struct OrganizationRef: Sendable, Equatable {
    public let id: UUID
    public let name: String
    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

extension UUID {
    /// The canonical (lower-case 8-4-4-4-12) text form used in cache keys and responses,
    /// formatted directly: `uuidString.lowercased()` costs two formatted strings per call,
    /// and every cached read makes one.
    public var canonical: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                let digits: StaticString = "0123456789abcdef"
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits.utf8Start[Int(byte >> 4)]
                    out[position + 1] = digits.utf8Start[Int(byte & 0xf)]
                    position += 2
                }
                return position
            }
        }
    }

    /// The UUID whose 16 bytes are `high` then `low`, big-endian.
    public init(high: UInt64, low: UInt64) {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { out in
            out.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            out.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        self.init(uuid: bytes)
    }
}
