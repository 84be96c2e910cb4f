import Analytics
import Foundation

/// `/usage/:id/feedback`: was this helpful, 1–5 stars and a comment on one of the owner's runs.
public struct FeedbackPage: Sendable {
    let title = "Rate this run"
    let action: String
    let packageText: String
    let model: String
    let whenText: String
    let stars: [Star]
    let helpfulYes: Bool
    let helpfulNo: Bool
    let feedback: String
    let maxLength = FeedbackInput.maxFeedbackLength
    let saved: Bool
    let hasError: Bool
    let ratingError: String
    let helpfulError: String
    let feedbackError: String

    struct Star: Sendable {
        let value: Int
        let id: String
        let checked: Bool
        let label: String
    }

    /// `form` is what the user sent (redisplayed with `error`), else the row's stored answers.
    public init(row: UsageRow, form: FeedbackInput? = nil, saved: Bool = false, error: (field: String, reason: String)? = nil) {
        action = "/usage/\(row.id.uuidString.lowercased())/feedback"
        packageText = row.packageName.map { name in row.packageVersion.map { "\(name) \(Insights.displayVersion($0))" } ?? name } ?? "a prompt"
        model = row.model
        whenText = Self.dateFormatter.string(from: row.createdAt)
        let rating = form?.rating ?? row.rating
        // In reading order, so that the arrow keys move along the row as it is seen.
        stars = (1...5).map { Star(value: $0, id: "rating-\($0)", checked: $0 == rating, label: "\($0) star\($0 == 1 ? "" : "s")") }
        let helpful = form?.wasHelpful ?? row.wasHelpful
        helpfulYes = helpful == true
        helpfulNo = helpful == false
        feedback = form?.feedback ?? row.feedback ?? ""
        self.saved = saved
        hasError = error != nil
        ratingError = error?.field == "rating" ? error!.reason : ""
        helpfulError = error?.field == "wasHelpful" ? error!.reason : ""
        feedbackError = error?.field == "feedback" ? error!.reason : ""
    }

    static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d, yyyy 'at' HH:mm 'UTC'"
        return formatter
    }()
}

/// `/login`: takes a registry token and keeps it in an HttpOnly cookie.
public struct LoginPage: Sendable {
    let title = "Sign in"
    let next: String
    let hasError: Bool
    let error: String

    public init(next: String, error: String? = nil) {
        self.next = next
        hasError = error != nil
        self.error = error ?? ""
    }
}

/// A page for an error: its status, a sentence and a way back.
public struct ErrorPage: Sendable {
    let title: String
    let status: Int
    let heading: String
    let message: String

    public init(status: Int, heading: String, message: String) {
        title = heading
        self.status = status
        self.heading = heading
        self.message = message
    }
}
