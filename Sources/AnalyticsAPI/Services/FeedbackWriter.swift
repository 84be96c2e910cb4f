import Analytics
import AnalyticsCache
import Foundation

/// Stores a user's feedback on one of their runs and marks what it feeds: one path for the JSON
/// endpoint and the feedback widget. The request deadline bounds only the wait for a connection;
/// a statement once sent is awaited, so a committed write is always answered and marked.
struct FeedbackWriter: Sendable {
    let queries: AnalyticsQueries
    let cache: ResponseCache
    let deadline: RequestDeadline

    func submit(_ input: FeedbackInput, userId: UUID) async throws -> FeedbackResult {
        let (result, affected) = try await deadline.waitingForConnection {
            try await queries.submitFeedback(input, userId: userId, waitAtMost: $0)
        }
        await cache.recordWrite(affected)
        return result
    }
}
