import Foundation

/// One usage event of `POST /usage`: the table's columns in camelCase.
public struct UsageEvent: Sendable, Equatable {
    public var userId: UUID
    public var orgId: UUID?
    public var packageId: UUID?
    public var packageVersion: String?
    public var sessionId: UUID?
    public var model: String
    public var tokensUsed: Int
    public var durationMs: Int
    public var creditsSpent: Int = 1
    public var requestSizeBytes: Int?
    public var responseSizeBytes: Int?
    public var inputLength: Int?
    public var outputLength: Int?
    public var errorOccurred: Bool = false
    public var errorMessage: String?
    public var userRating: Int?
    public var wasHelpful: Bool?
    public var userFeedback: String?
    public var comparisonMode: Bool = false
    public var createdAt: Date?

    public init(userId: UUID, model: String, tokensUsed: Int, durationMs: Int) {
        self.userId = userId
        self.model = model
        self.tokensUsed = tokensUsed
        self.durationMs = durationMs
    }
}

/// Parsing and validation of an ingestion body: one event, or `{events: [...]}` (1…1000).
public enum UsageBatch {
    public static let maxEvents = 1000

    public enum Problem: Error, Equatable, Sendable {
        /// Not JSON at all → 400.
        case malformed(String)
        /// The first invalid event (its index) and field → 422.
        case invalid(index: Int?, field: String, reason: String)
        /// The event at `index` carries feedback text and a `createdAt` older than the 6 months
        /// feedback text is kept → 422 `feedback_expired`, nothing of the batch stored.
        case feedbackExpired(index: Int)
    }

    public static func parse(_ body: [UInt8]) throws(Problem) -> [UsageEvent] {
        guard let value = try? JSONParser.parse(body) else { throw .malformed("body is not valid JSON") }
        guard case .object(let object) = value else { throw .invalid(index: nil, field: "body", reason: "must be an object") }
        if let events = object["events"] {
            guard object.count == 1 else { throw .invalid(index: nil, field: "events", reason: "no other top-level field is allowed") }
            guard case .array(let items) = events else { throw .invalid(index: nil, field: "events", reason: "must be an array") }
            guard !items.isEmpty else { throw .invalid(index: nil, field: "events", reason: "must not be empty") }
            guard items.count <= maxEvents else { throw .invalid(index: nil, field: "events", reason: "at most \(maxEvents) events") }
            var parsed: [UsageEvent] = []
            parsed.reserveCapacity(items.count)
            for (index, item) in items.enumerated() { parsed.append(try event(item, index: index)) }
            return parsed
        }
        return [try event(value, index: 0)]
    }

    static let int32Max = Int(Int32.max)
    static let knownFields: Set<String> = [
        "userId", "orgId", "packageId", "packageVersion", "sessionId", "model", "tokensUsed", "durationMs", "creditsSpent",
        "requestSizeBytes", "responseSizeBytes", "inputLength", "outputLength", "errorOccurred", "errorMessage", "userRating",
        "wasHelpful", "userFeedback", "comparisonMode", "createdAt",
    ]

    static func event(_ value: JSONValue, index: Int) throws(Problem) -> UsageEvent {
        guard case .object(let o) = value else { throw .invalid(index: index, field: "event", reason: "must be an object") }
        if let unknown = o.keys.sorted().first(where: { !knownFields.contains($0) }) {
            throw .invalid(index: index, field: unknown, reason: "unknown field")
        }
        let reader = FieldReader(object: o, index: index)
        var event = UsageEvent(
            userId: try reader.uuid("userId", required: true)!,
            model: try reader.string("model", required: true, maxLength: 50, nonEmpty: true)!,
            tokensUsed: try reader.int("tokensUsed", required: true, range: 0...int32Max)!,
            durationMs: try reader.int("durationMs", required: true, range: 0...int32Max)!)
        event.orgId = try reader.uuid("orgId")
        event.packageId = try reader.uuid("packageId")
        event.packageVersion = try reader.string("packageVersion", maxLength: 50, nonEmpty: true)
        event.sessionId = try reader.uuid("sessionId")
        event.creditsSpent = try reader.int("creditsSpent", range: 0...int32Max) ?? 1
        event.requestSizeBytes = try reader.int("requestSizeBytes", range: 0...int32Max)
        event.responseSizeBytes = try reader.int("responseSizeBytes", range: 0...int32Max)
        event.inputLength = try reader.int("inputLength", range: 0...int32Max)
        event.outputLength = try reader.int("outputLength", range: 0...int32Max)
        event.errorOccurred = try reader.bool("errorOccurred") ?? false
        event.errorMessage = try reader.string("errorMessage", maxLength: 10_000)
        event.userRating = try reader.int("userRating", range: 1...5)
        event.wasHelpful = try reader.bool("wasHelpful")
        event.userFeedback = try reader.string("userFeedback", maxLength: FeedbackInput.maxFeedbackLength)
        event.comparisonMode = try reader.bool("comparisonMode") ?? false
        if let text = try reader.string("createdAt") {
            guard let date = parseISO8601(text) else { throw .invalid(index: index, field: "createdAt", reason: "must be an ISO-8601 timestamp") }
            guard date.timeIntervalSince1970 >= 0, date.timeIntervalSinceNow <= 86_400 else {
                throw .invalid(index: index, field: "createdAt", reason: "must be between 1970-01-01 and one day from now")
            }
            event.createdAt = date
            if event.userFeedback != nil, RetentionRules.feedbackTextExpired(createdAt: date) { throw .feedbackExpired(index: index) }
        }
        return event
    }

    /// `2026-11-25T10:00:00Z`, with optional fractional seconds and a `Z` or `±HH:MM` offset.
    public static func parseISO8601(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    struct FieldReader {
        let object: [String: JSONValue]
        let index: Int

        func missing(_ field: String, _ required: Bool) throws(Problem) -> JSONValue? {
            guard let value = object[field], value != .null else {
                if required { throw .invalid(index: index, field: field, reason: "is required") }
                return nil
            }
            return value
        }

        func uuid(_ field: String, required: Bool = false) throws(Problem) -> UUID? {
            guard let value = try missing(field, required) else { return nil }
            guard case .string(let text) = value, let id = UUID(uuidString: text) else {
                throw .invalid(index: index, field: field, reason: "must be a UUID string")
            }
            return id
        }

        func string(_ field: String, required: Bool = false, maxLength: Int = .max, nonEmpty: Bool = false) throws(Problem) -> String? {
            guard let value = try missing(field, required) else { return nil }
            guard case .string(let text) = value else { throw .invalid(index: index, field: field, reason: "must be a string") }
            // Postgres text cannot hold NUL characters.
            if text.unicodeScalars.contains("\u{0}") { throw .invalid(index: index, field: field, reason: "must not contain NUL characters") }
            if nonEmpty, text.isEmpty { throw .invalid(index: index, field: field, reason: "must not be empty") }
            // Lengths as Postgres counts them (VARCHAR(n): code points), not grapheme clusters.
            if text.unicodeScalars.count > maxLength {
                throw .invalid(index: index, field: field, reason: "must be at most \(maxLength) characters")
            }
            return text
        }

        func int(_ field: String, required: Bool = false, range: ClosedRange<Int>) throws(Problem) -> Int? {
            guard let value = try missing(field, required) else { return nil }
            guard case .int(let number) = value else { throw .invalid(index: index, field: field, reason: "must be an integer") }
            guard range.contains(number) else {
                throw .invalid(index: index, field: field, reason: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return number
        }

        func bool(_ field: String) throws(Problem) -> Bool? {
            guard let value = try missing(field, false) else { return nil }
            guard case .bool(let flag) = value else { throw .invalid(index: index, field: field, reason: "must be a boolean") }
            return flag
        }
    }
}
