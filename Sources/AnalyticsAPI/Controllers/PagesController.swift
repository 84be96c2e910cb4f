import Analytics
import AnalyticsCache
import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird

/// The pages people read, served by the API process. Each reads the same cached answers as the
/// JSON API (a page view costs what the JSON reads it shows cost) and renders them on the server.
struct PagesController<Context: RequestContext> {
    let reader: CachedAnalytics
    let renderer: PageRenderer

    func register(on router: Router<Context>) {
        router.get("/", use: home)
    }

    /// `/`: totals, trending and popular packages. Public like the JSON it shows (cached for
    /// the site-wide answers' TTL).
    @Sendable func home(_ request: Request, context: Context) async throws -> Response {
        async let summary = reader.summary()
        async let trending = reader.trending(limit: 10)
        async let popular = reader.popular(days: 30, limit: 10)
        let decoder = JSONDecoder()
        let page = HomePage(
            summary: try decoder.decode(SiteSummary.self, from: Data(try await summary.entry.body)),
            trending: try decoder.decode(TrendingPackages.self, from: Data(try await trending.entry.body)),
            popular: try decoder.decode(PopularPackages.self, from: Data(try await popular.entry.body)))
        let ttl = try await summary.ttl
        return Self.html(renderer.render(page, page: "home"), cacheControl: "public, max-age=\(ttl)")
    }

    static func html(_ text: String, cacheControl: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: cacheControl],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
