import Foundation

/// A UUID written in its canonical lower-case form (JSONEncoder writes upper case).
@propertyWrapper
public struct CanonicalUUID: Codable, Sendable, Equatable, Hashable {
    public var wrappedValue: UUID

    public init(wrappedValue: UUID) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(UUID.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue.canonical)
    }
}
