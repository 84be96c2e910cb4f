import Analytics
import AnalyticsCache
import Badges
import Foundation
import Hummingbird

/// GET /package/:packageId/badge/:metric.svg|.json — shields.io-style badges for package
/// pages, rendered from the cached package entry (so a badge costs one Redis GET).
struct BadgeController<Context: RequestContext> {
    let reader: CachedAnalytics
    /// The badge figures of a package answer (package and days), with the ETag of the answer
    /// they were read from (decoding the JSON answer on every badge read was 6 % of the
    /// server's CPU under the full mix).
    let figures = TTLCache<String, Versioned<BadgeStats>>(
        ttl: .seconds(600), capacity: 20_000, maxBytes: 8 << 20, name: "badge_figures",
        cost: { key, figures in key.utf8.count + 64 + 8 * figures.value.dailyRuns.count })
    /// Rendered badges (bytes and their ETag) by package, days, metric, format, style and label,
    /// with the ETag of the answer they were drawn from: a badge is drawn once per answer, not
    /// per view, and a new answer replaces the old drawing. (Keyed by the answer's ETag, the
    /// drawings of every answer ever computed stayed for 10 minutes: the growth of issue 29.)
    let rendered = TTLCache<String, Versioned<RenderedBadge>>(
        ttl: .seconds(600), capacity: 50_000, maxBytes: 16 << 20, name: "badge_renders",
        cost: { key, badge in key.utf8.count + badge.value.body.count + 96 })

    struct RenderedBadge: Sendable {
        let body: [UInt8]
        let etag: String
    }

    func register(on router: RouterGroup<Context>) {
        router.get("package/:packageId/badge/:file", use: badge)
    }

    /// Labels longer than this are refused (400): a label is drawn, and keyed in the drawings' cache.
    static var maxLabelLength: Int { 256 }

    enum Format: String {
        case svg
        case json
    }

    @Sendable func badge(_ request: Request, context: Context) async throws -> Response {
        let file = try context.parameters.require("file")
        let label = request.uri.queryParameters.get("label")
        let parts = file.split(separator: ".", maxSplits: 1).map(String.init)
        let format = parts.count == 2 ? Format(rawValue: parts[1]) : nil
        let metric = parts.first.flatMap(BadgeMetric.init(rawValue:))
        let styleName = request.uri.queryParameters.get("style") ?? BadgeStyle.flat.rawValue
        guard let format else {
            throw APIError.notFound("badges are served as .svg or .json")
        }
        let style = BadgeStyle(rawValue: styleName)
        let labelTooLong = (label?.count ?? 0) > Self.maxLabelLength
        guard let metric, let style, let days = AnalyticsWindow.parseDays(request.uri.queryParameters.get("days")), !labelTooLong else {
            let message = metric == nil ? "invalid metric" : style == nil ? "invalid style" : labelTooLong ? "label too long" : "invalid days"
            return Self.render(Badge.invalid(message), format: format, style: style ?? .flat, status: .badRequest, request: request)
        }
        let package: PackageRef
        let cached: CachedResponse
        do {
            let idOrName = try context.parameters.decoded("packageId")
            (package, cached) = try await reader.package(idOrName, days: days)
        } catch AnalyticsError.packageNotFound {
            return Self.render(Badge.notFound(label: label ?? metric.defaultLabel), format: format, style: style, status: .notFound, request: request)
        }
        let answer = "\(package.id.canonical)|\(days)"
        let key = "\(answer)|\(metric.rawValue)|\(format.rawValue)|\(style.rawValue)|\(label ?? "")"
        let badge = try rendered.value(key, version: cached.entry.etag) {
            let drawn = metric.badge(for: try badgeStats(cached.entry, answer: answer), label: label)
            let body = format == .svg ? Array(drawn.svg(style: style).utf8) : drawn.endpointJSON()
            return RenderedBadge(body: body, etag: ETag.strong(body))
        }
        return Responses.cachedBody(
            badge.body, etag: badge.etag, status: cached.status, freshness: cached.httpFreshness(), contentType: format.contentType,
            request: request,
            visibility: .publicData)
    }

    static func render(_ badge: Badge, format: Format, style: BadgeStyle, status: HTTPResponse.Status, request: Request) -> Response {
        let body = format == .svg ? Array(badge.svg(style: style).utf8) : badge.endpointJSON()
        return Responses.cachedBody(
            body, etag: ETag.strong(body), status: .bypass, freshness: HTTPFreshness(lifetime: 60), contentType: format.contentType,
            request: request,
            visibility: .publicData, httpStatus: status)
    }

    /// The figures of `entry`, the package answer `answer` (package and days).
    func badgeStats(_ entry: CacheEntry, answer: String) throws -> BadgeStats {
        try figures.value(answer, version: entry.etag) {
            Self.badgeStats(try JSONDecoder().decode(PackageStats.self, from: Data(entry.body)))
        }
    }

    static func badgeStats(_ stats: PackageStats) -> BadgeStats {
        BadgeStats(
            totalRuns: stats.totalRuns, uniqueUsers: stats.uniqueUsers, avgRating: stats.avgRating, successRate: stats.successRate,
            trend: stats.weekOverWeek?.trend, changePct: stats.weekOverWeek?.changePct, bestModel: BestModel.of(stats.modelBreakdown),
            dailyRuns: stats.dailyUsage.sorted { $0.date < $1.date }.map(\.runs))
    }

}

extension BadgeController.Format {
    var contentType: String { self == .svg ? "image/svg+xml; charset=utf-8" : "application/json; charset=utf-8" }
}
