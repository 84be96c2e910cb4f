import Foundation

/// `POST /feedback` body: `{usageId, rating?, wasHelpful?, feedback?}`.
public struct FeedbackInput: Sendable, Equatable {
    public static let maxFeedbackLength = 2000

    public var usageId: UUID
    public var rating: Int?
    public var wasHelpful: Bool?
    public var feedback: String?

    public enum Problem: Error, Equatable, Sendable {
        /// Not JSON, not an object, or a field of the wrong type → 400.
        case malformed(String)
        /// Well-typed but out of range, or nothing to store → 422.
        case invalid(field: String, reason: String)
    }

    /// Parses and validates a body. A usageId that is not a UUID string is a wrong type (400).
    public static func parse(_ body: [UInt8]) throws(Problem) -> FeedbackInput {
        guard let value = try? JSONParser.parse(body) else { throw .malformed("body is not valid JSON") }
        guard case .object(let object) = value else { throw .malformed("body must be a JSON object") }
        for key in object.keys where !["usageId", "rating", "wasHelpful", "feedback"].contains(key) {
            throw .malformed("unknown field \(key)")
        }
        guard case .string(let idText)? = object["usageId"] else { throw .malformed("usageId must be a UUID string") }
        guard let usageId = UUID(uuidString: idText) else { throw .malformed("usageId must be a UUID string") }
        var input = FeedbackInput(usageId: usageId)
        switch object["rating"] {
        case nil, .null?: break
        case .int(let rating)?: input.rating = rating
        default: throw .malformed("rating must be an integer")
        }
        switch object["wasHelpful"] {
        case nil, .null?: break
        case .bool(let helpful)?: input.wasHelpful = helpful
        default: throw .malformed("wasHelpful must be a boolean")
        }
        switch object["feedback"] {
        case nil, .null?: break
        case .string(let text)?: input.feedback = text
        default: throw .malformed("feedback must be a string")
        }
        try input.validate()
        return input
    }

    /// The value rules, for input of any form (the JSON body, the feedback widget's form):
    /// rating 1…5, feedback at most 2000 characters without NUL, at least one of the three.
    public func validate() throws(Problem) {
        if let rating, !(1...5).contains(rating) { throw .invalid(field: "rating", reason: "must be an integer from 1 to 5") }
        if let feedback {
            guard !feedback.unicodeScalars.contains("\u{0}") else { throw .invalid(field: "feedback", reason: "must not contain NUL characters") }
            // Characters as Postgres counts them: code points, not grapheme clusters.
            guard feedback.unicodeScalars.count <= Self.maxFeedbackLength else {
                throw .invalid(field: "feedback", reason: "must be at most \(Self.maxFeedbackLength) characters")
            }
        }
        guard rating != nil || wasHelpful != nil || feedback != nil else {
            throw .invalid(field: "rating", reason: "give at least one of rating, wasHelpful, feedback")
        }
    }

    public init(usageId: UUID, rating: Int? = nil, wasHelpful: Bool? = nil, feedback: String? = nil) {
        self.usageId = usageId
        self.rating = rating
        self.wasHelpful = wasHelpful
        self.feedback = feedback
    }
}
