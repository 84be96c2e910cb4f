import Analytics
import AnalyticsCache
import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix

/// The pages people read, served by the API process and rendered on the server. Each reads the
/// same cached answers as the JSON API, so a page view costs what the JSON reads it shows cost:
/// public pages (home, package) are cacheable like that JSON, with an ETag made of the answers'
/// ETags (a 304 costs no rendering, and a rendering is kept per ETag); personal pages (`/me`,
/// organizations, the feedback widget) are `private, no-store`.
struct PagesController<Context: RequestContext> {
    let reader: CachedAnalytics
    let queries: AnalyticsQueries
    let renderer: PageRenderer
    let session: PageSession
    let feedback: FeedbackWriter
    let maxBodyBytes: Int
    let rendered = RenderedPages()

    func register(on router: Router<Context>) {
        let pages = router.group().add(middleware: PageErrorMiddleware(renderer: renderer)).add(middleware: NulRejectionMiddleware())
        pages.get("/", use: home)
        pages.get("packages/:name", use: package)
        pages.get("me", use: me)
        pages.get("orgs/:orgId", use: organization)
        pages.get("orgs/:orgId/report", use: report)
        pages.get("orgs/:orgId/members.csv", use: membersCSV)
        pages.get("orgs/:orgId/teams.csv", use: teamsCSV)
        pages.get("usage/:usageId/feedback", use: feedbackForm)
        pages.post("usage/:usageId/feedback", use: sendFeedback)
        pages.get("login", use: loginForm)
        pages.post("login", use: login)
        pages.post("logout", use: logout)
    }

    // MARK: Public pages

    /// `/`: totals, trending and popular packages.
    @Sendable func home(_ request: Request, context: Context) async throws -> Response {
        async let summary = reader.summary()
        async let trending = reader.trending(limit: 10)
        async let popular = reader.popular(days: 30, limit: 10)
        let answers = try await (summary, trending, popular)
        return try await publicPage("home", answers: [answers.0, answers.1, answers.2], request: request) {
            HomePage(
                summary: try Self.decode(SiteSummary.self, answers.0), trending: try Self.decode(TrendingPackages.self, answers.1),
                popular: try Self.decode(PopularPackages.self, answers.2))
        }
    }

    /// `/packages/:name?days=30`: everything from the package's answer for the window.
    @Sendable func package(_ request: Request, context: Context) async throws -> Response {
        let days = try request.days()
        let (_, answer) = try await reader.package(try context.parameters.decoded("name"), days: days)
        let baseURL = session.publicBaseURL ?? ""
        return try await publicPage("package", answers: [answer], variant: baseURL, request: request) {
            PackagePage(stats: try Self.decode(PackageStats.self, answer), baseURL: baseURL)
        }
    }

    // MARK: Personal pages

    /// `/me?days=30`: the signed-in user's answer.
    @Sendable func me(_ request: Request, context: Context) async throws -> Response {
        if let signedIn = try await session.signInFromQuery(request) { return signedIn }
        let user = try await session.user(request)
        let answer = try await reader.user(user, days: try request.days())
        return Responses.html(try await renderOffLoop("me") { MyAnalyticsPage(stats: try Self.decode(UserStats.self, answer)) })
    }

    /// `/orgs/:orgId?days=30`: the organization's answer for the window and for twice the window
    /// (the previous period of the same length is its first half).
    @Sendable func organization(_ request: Request, context: Context) async throws -> Response {
        if let signedIn = try await session.signInFromQuery(request) { return signedIn }
        let user = try await session.user(request)
        let days = try request.days()
        let orgId = try context.parameters.organizationId()
        async let current = reader.organization(orgId, caller: user, days: days)
        async let doubled: CachedResponse? =
            days <= OrganizationPage.longestCompared ? reader.organization(orgId, caller: user, days: days * 2) : nil
        let (answer, previousAnswer) = try await (current, doubled)
        return Responses.html(
            try await renderOffLoop("organization") {
                OrganizationPage(
                    stats: try Self.decode(OrganizationStats.self, answer),
                    doubled: try previousAnswer.map { try Self.decode(OrganizationStats.self, $0) })
            })
    }

    /// `/orgs/:orgId/report?month=YYYY-MM`: the monthly report's answer (default: last month).
    @Sendable func report(_ request: Request, context: Context) async throws -> Response {
        if let signedIn = try await session.signInFromQuery(request) { return signedIn }
        let user = try await session.user(request)
        let month = try request.reportMonth()
        let answer = try await reader.organizationReport(try context.parameters.organizationId(), caller: user, month: month)
        return Responses.html(try await renderOffLoop("report") { ReportPage(report: try Self.decode(OrganizationReport.self, answer)) })
    }

    /// The report page's CSV links (`?days=` or `?month=`): the API's exports, for the signed-in reader.
    @Sendable func membersCSV(_ request: Request, context: Context) async throws -> Response {
        try await OrganizationExport.members.response(reader: reader, request: request, context: context) { try await session.user(request) }
    }

    @Sendable func teamsCSV(_ request: Request, context: Context) async throws -> Response {
        try await OrganizationExport.teams.response(reader: reader, request: request, context: context) { try await session.user(request) }
    }

    /// `/usage/:usageId/feedback`: the widget for one of the reader's runs.
    @Sendable func feedbackForm(_ request: Request, context: Context) async throws -> Response {
        if let signedIn = try await session.signInFromQuery(request) { return signedIn }
        let (_, row) = try await usageRow(request, context: context)
        let saved = request.uri.queryParameters.get("saved") == "1"
        return Responses.html(renderer.render(FeedbackPage(row: row, saved: saved), page: "feedback"))
    }

    /// The widget's form: checked by the API's rules and stored by the API's path; errors are
    /// shown beside their answer (422), success goes back to the widget (303, post/redirect/get).
    @Sendable func sendFeedback(_ request: Request, context: Context) async throws -> Response {
        try PageSession.requireSameOrigin(request)
        let (user, row) = try await usageRow(request, context: context)
        let form = try await Self.form(FeedbackForm.self, request, limit: maxBodyBytes)
        var input = FeedbackInput(
            usageId: row.id, wasHelpful: form.wasHelpful.flatMap { ["yes": true, "no": false][$0] },
            feedback: form.feedback.flatMap { $0.isEmpty ? nil : $0 })
        do {
            if let rating = form.rating {
                guard let value = Int(rating) else { throw FeedbackInput.Problem.invalid(field: "rating", reason: "must be an integer from 1 to 5") }
                input.rating = value
            }
            if let helpful = form.wasHelpful, input.wasHelpful == nil {
                throw FeedbackInput.Problem.invalid(field: "wasHelpful", reason: "must be yes or no, not \(helpful)")
            }
            try input.validate()
        } catch let FeedbackInput.Problem.invalid(field, reason) {
            let page = FeedbackPage(row: row, form: input, error: (field, reason))
            return Responses.html(renderer.render(page, page: "feedback"), status: .unprocessableContent)
        }
        _ = try await feedback.submit(input, userId: user)
        return Responses.redirect(to: "/usage/\(row.id.uuidString.lowercased())/feedback?saved=1")
    }

    struct FeedbackForm: Decodable {
        var rating: String?
        var wasHelpful: String?
        var feedback: String?
    }

    /// The reader and their own usage row named by the path (404 for any other, as the JSON API).
    private func usageRow(_ request: Request, context: Context) async throws -> (UUID, UsageRow) {
        let user = try await session.user(request)
        guard let id = UUID(uuidString: try context.parameters.require("usageId")), let row = try await queries.usageRow(id, owner: user) else {
            throw AnalyticsError.usageNotFound
        }
        return (user, row)
    }

    // MARK: Signing in

    @Sendable func loginForm(_ request: Request, context: Context) async throws -> Response {
        let next = PageSession.localPath(request.uri.queryParameters.get("next"))
        if let token = request.uri.queryParameters.get("token") {
            return try await session.signInFromLink(token: String(token), next: next, request: request)
        }
        return Responses.html(renderer.render(LoginPage(next: next), page: "login"))
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        try PageSession.requireSameOrigin(request)
        let form = try await Self.form(LoginForm.self, request, limit: maxBodyBytes)
        let next = PageSession.localPath(form.next)
        do {
            return try await session.signIn(token: form.token ?? "", next: next, request: request)
        } catch let error as APIError where error.status == .unauthorized {
            let page = LoginPage(next: next, error: PageErrorMiddleware<Context>.sentence(error.message))
            return Responses.html(renderer.render(page, page: "login"), status: .unauthorized)
        }
    }

    struct LoginForm: Decodable {
        var token: String?
        var next: String?
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        try PageSession.requireSameOrigin(request)
        return session.signOut(request)
    }

    // MARK: Helpers

    /// A public page: ETag from the answers shown (plus the templates and `variant`), 304 before
    /// any work, the rendering kept per ETag; cacheable for as long as its answer with the least time left.
    private func publicPage(
        _ name: String, answers: [CachedResponse], variant: String = "", request: Request,
        model: @escaping @Sendable () throws -> any Sendable
    ) async throws -> Response {
        let etag = ETag.strong(Array(([name, renderer.version, variant] + answers.map(\.entry.etag)).joined(separator: "|").utf8))
        let bytes: [UInt8]
        if let known = rendered[etag] {
            bytes = known
        } else {
            bytes = Array(try await renderOffLoop(name, model).utf8)
            rendered[etag] = bytes
        }
        return Responses.cachedBody(
            bytes, etag: etag, status: answers[0].status,
            freshness: HTTPFreshness.least(answers.map { $0.httpFreshness() }), contentType: Responses.htmlContentType, request: request,
            visibility: .publicData)
    }

    /// Decodes the answers and renders the page on NIO's blocking-work pool, not on the event
    /// loop: a page of a long window takes milliseconds (365 days: 8–14 ms, docs/performance.md),
    /// which would hold up every other connection of the loop meanwhile.
    private func renderOffLoop(_ page: String, _ model: @escaping @Sendable () throws -> any Sendable) async throws -> String {
        let renderer = self.renderer
        return try await NIOThreadPool.singleton.runIfActive { renderer.render(try model(), page: page) }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ answer: CachedResponse) throws -> T {
        try answer.decoded(T.self)
    }

    /// An `application/x-www-form-urlencoded` body of at most `limit` bytes.
    static func form<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
        var request = request
        let body = try await request.collectBody(limit: limit, mediaType: "application/x-www-form-urlencoded")
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(decoding: body, as: UTF8.self))
        } catch {
            throw APIError.badRequest("the form could not be read", code: "malformed_body")
        }
    }
}

/// Renderings of public pages by ETag: equal answers give equal pages, rendered once.
final class RenderedPages: Sendable {
    private let pages = TTLCache<String, [UInt8]>(
        ttl: .seconds(300), capacity: 4096, maxBytes: 32 << 20, name: "rendered_pages", cost: { key, page in key.utf8.count + page.count })

    subscript(etag: String) -> [UInt8]? {
        get { pages[etag] }
        set { pages[etag] = newValue }
    }
}
