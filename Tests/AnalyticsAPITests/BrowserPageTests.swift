import Analytics
import AnalyticsAPI
import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// The pages in a real browser (Debian's headless Chromium over the DevTools protocol): the
/// numbers on each page equal the JSON API's, the login form and the feedback widget work with
/// mouse and keyboard, and each page is saved as a screenshot in `docs/screenshots/browser-tests/`
/// (git-ignored: fresh after every run; the committed screenshots of the demo data come from
/// `Scripts/screenshots`).
@Suite("Pages in a browser", .serialized)
struct BrowserPageTests {
    static var screenshots: URL { TestEnvironment.repositoryRoot.appendingPathComponent("docs/screenshots/browser-tests") }

    /// A small registry: one package tested by 24 developers on three models and two versions
    /// over 30 days, an org of six members in three teams, one user who is its admin.
    struct World {
        let me: UUID
        let package: (id: UUID, name: String)
        let org: UUID
        let myRun: UUID
    }

    static func makeWorld(_ f: Fixture) async throws -> World {
        let me = try await f.user("maria")
        let package = try await f.package("code-reviewer")
        let other = try await f.package("commit-writer")
        let org = try await f.organization("Acme Robotics")
        var team: [UUID] = [me]
        try await f.member(org: org, user: me, role: "admin", team: "platform")
        for (index, name) in ["li", "omar", "sofia", "kenji", "ana"].enumerated() {
            let user = try await f.user(name)
            try await f.member(org: org, user: user, role: "member", team: ["platform", "web", "data"][index % 3])
            team.append(user)
        }
        var developers = team
        for index in 0..<18 { developers.append(try await f.user("dev\(index)")) }
        let models = [("claude-sonnet-4-5", 2100), ("gpt-4o", 3300), ("gemini-2.5-pro", 4200)]
        var rows: [Fixture.Usage] = []
        for index in 0..<420 {
            let day = (index * 7) % 30
            var row = Fixture.Usage(user: developers[(index * 5) % developers.count], package: index % 5 == 4 ? other.id : package.id)
            if team.contains(row.user) || index % 3 == 0 { row.org = team.contains(row.user) ? org : nil }
            let model = models[index % 7 < 4 ? 0 : index % 7 < 6 ? 1 : 2]
            row.model = model.0
            row.duration = model.1 + (index % 11) * 40
            row.version = day < 12 ? "2.0.0" : "1.5.0"
            row.rating = index % 4 == 0 ? (day < 12 ? 5 : 4) - (index % 8 == 0 ? 1 : 0) : nil
            row.credits = 1 + index % 4
            row.error = index % 23 == 0
            row.daysAgo = day + (30 - day) * (index % 9 == 0 ? 1 : 0) / 2
            row.hour = index % 24
            rows.append(row)
        }
        // The team's own recent runs (for the org page and the feedback widget).
        for index in 0..<60 {
            var row = Fixture.Usage(user: team[index % team.count], package: package.id, org: org)
            row.model = models[index % 3].0
            row.duration = models[index % 3].1
            row.credits = 2
            row.daysAgo = index % 45
            rows.append(row)
        }
        let ids = try await f.usage(rows)
        return World(me: me, package: package, org: org, myRun: ids[420])  // maria's first team run: not rated yet
    }

    @Test func everyPageShowsTheJSONFiguresAndItsFormsWork() async throws {
        try await withBrowser { page, base, client, dependencies in
            let f = Fixture(postgres: dependencies.postgres)
            let world = try await Self.makeWorld(f)
            let token = try await Tokens.sign(user: world.me)
            try await Self.home(page, base: base, client: client)
            try await Self.package(page, base: base, client: client, world: world)
            try await Self.signInAndMe(page, base: base, client: client, token: token)
            try await Self.organization(page, base: base, client: client, world: world, token: token)
            try await Self.feedback(page, base: base, f: f, world: world)
            try await Self.narrowScreen(page, base: base, world: world)
        }
    }

    static func figure(_ page: BrowserPage, _ name: String) async throws -> String? {
        try await page.text("[data-figure=\(name)]")
    }

    static func home(_ page: BrowserPage, base: String, client: some TestClientProtocol) async throws {
        // Site-wide answers are refreshed by their TTL and served STALE while that happens: make
        // them fresh first, so that the page and the JSON read below show the same entries.
        for path in ["/api/v1/analytics/summary", "/api/v1/analytics/popular?days=30&limit=10", "/api/v1/analytics/trending?limit=10"] {
            try await TestEnvironment.eventually("\(path) is fresh", timeout: .seconds(5)) { try await client.get(path).cacheStatus == "HIT" }
        }
        try await page.goto(base + "/")
        let summary = try await client.get("/api/v1/analytics/summary").json(SiteSummary.self)
        #expect(try await figure(page, "totalRuns") == PageFormat.grouped(summary.totalRuns))
        #expect(try await figure(page, "uniqueUsers") == PageFormat.grouped(summary.uniqueUsers))
        #expect(try await figure(page, "packagesWithRuns") == PageFormat.grouped(summary.packagesWithRuns))
        let popular = try await client.get("/api/v1/analytics/popular?days=30&limit=10").json(PopularPackages.self)
        #expect(try await page.texts("td[data-runs]") == popular.packages.map { PageFormat.grouped($0.runs) })
        try await page.screenshot(to: screenshots.appendingPathComponent("home.png").path)
    }

    static func package(_ page: BrowserPage, base: String, client: some TestClientProtocol, world: World) async throws {
        try await page.goto(base + "/packages/" + PageFormat.pathSegment(world.package.name))
        let json = try await client.get("/api/v1/analytics/package/\(world.package.id)?days=30").json(PackageStats.self)
        #expect(try await page.text("h1") == json.packageName)
        #expect(try await figure(page, "headline") == "Tested \(PageFormat.grouped(json.totalRuns)) times by \(json.uniqueUsers) developers")
        #expect(try await figure(page, "totalRuns") == PageFormat.grouped(json.totalRuns))
        #expect(try await figure(page, "uniqueUsers") == PageFormat.grouped(json.uniqueUsers))
        #expect(try await figure(page, "avgRating") == json.avgRating.map { PageFormat.decimal($0) })
        #expect(try await figure(page, "successRate") == json.successRate.map { PageFormat.decimal($0) + "%" })
        #expect(try await figure(page, "popularityRank") == json.popularityRank.map { "#\($0)" })
        #expect(try await figure(page, "bestModel")?.hasPrefix("Best on \(json.bestModel?.model ?? "?") (") == true)
        // The daily chart: one point per day, each with the answer's runs.
        let values = try await page.evaluate(
            "Array.from(document.querySelectorAll('figure.chart svg [data-value]')).slice(0, 30).map(e => Number(e.dataset.value))")
        #expect(values.array?.compactMap(\.number) == json.dailyUsage.map { Double($0.runs) })
        // The newer version is rated better: the sentence says by how much.
        #expect(try await figure(page, "versionInsight")?.hasPrefix("v2.0.0 has ") == true)
        // Every badge image loads (an SVG of non-zero width).
        try await page.waitUntil("Array.from(document.querySelectorAll('.badges img')).every(i => i.complete && i.naturalWidth > 0)")
        #expect(try await page.evaluate("document.querySelectorAll('.badges img').length").number == Double(PackagePage.badgeMetrics.count))
        try await page.click("[data-copy]")
        try await page.waitUntil("document.querySelector('[data-copy]').textContent === 'Copied'")
        try await page.screenshot(to: screenshots.appendingPathComponent("package.png").path)
    }

    static func signInAndMe(_ page: BrowserPage, base: String, client: some TestClientProtocol, token: String) async throws {
        try await page.goto(base + "/me")
        // Not signed in: the login form, which brings the reader back here.
        #expect(try await page.text("h1") == "Sign in")
        try await page.click("#token")
        try await page.type(token)
        try await page.waitForNavigation { try await page.click("#login button[type=submit]") }
        #expect(try await page.evaluate("location.pathname").string == "/me")
        let cookie = try await page.cookies().first { $0["name"]?.string == "prpm_token" }
        #expect(cookie?["httpOnly"]?.bool == true)
        #expect(cookie?["sameSite"]?.string == "Strict")
        // Scripts cannot read it.
        #expect(try await page.evaluate("document.cookie").string?.contains("prpm_token") == false)
        let json = try await client.get("/api/v1/analytics/user/me?days=30", headers: Tokens.bearer(token)).json(UserStats.self)
        #expect(try await figure(page, "totalRuns") == PageFormat.grouped(json.totalRuns))
        #expect(try await figure(page, "creditsSpent") == PageFormat.grouped(json.creditsSpent))
        #expect(try await figure(page, "hoursSaved") == PageFormat.decimal(Insights.hoursSaved(runs: json.totalRuns)) + " h")
        #expect(try await figure(page, "mostUsedModel") == json.mostUsedModel)
        try await page.screenshot(to: screenshots.appendingPathComponent("me.png").path)
    }

    static func organization(_ page: BrowserPage, base: String, client: some TestClientProtocol, world: World, token: String) async throws {
        let orgPath = "/orgs/\(world.org.uuidString.lowercased())"
        try await page.goto(base + orgPath)
        let json = try await client.get("/api/v1/analytics/organization/\(world.org)?days=30", headers: Tokens.bearer(token))
            .json(OrganizationStats.self)
        let doubled = try await client.get("/api/v1/analytics/organization/\(world.org)?days=60", headers: Tokens.bearer(token))
            .json(OrganizationStats.self)
        #expect(try await figure(page, "totalRuns") == PageFormat.grouped(json.totalRuns))
        #expect(try await figure(page, "activeMembers") == PageFormat.grouped(json.activeMembers))
        #expect(try await figure(page, "totalMembers") == PageFormat.grouped(json.totalMembers))
        #expect(try await figure(page, "totalCredits") == PageFormat.grouped(json.totalCredits))
        let before = doubled.dailyUsage.prefix(30).reduce(0) { $0 + $1.runs }
        #expect(try await figure(page, "runsChange") == Insights.change(json.totalRuns, from: before).map(PageFormat.signedPercent))
        let leaders = try await page.texts("tbody tr td:nth-child(2)")
        #expect(Array(leaders.prefix(json.memberActivity.count)) == json.memberActivity.map(\.username))
        try await page.screenshot(to: screenshots.appendingPathComponent("organization.png").path)
    }

    static func feedback(_ page: BrowserPage, base: String, f: Fixture, world: World) async throws {
        let path = "/usage/\(world.myRun.uuidString.lowercased())/feedback"
        try await page.goto(base + path)
        // Sending nothing: the error shows beside the answers, and nothing is sent.
        try await page.click("#feedback button[type=submit]")
        #expect(try await page.text("#rating-error") == "give at least one of rating, wasHelpful, feedback")
        #expect(try await page.evaluate("location.pathname").string == path)
        // Keyboard only: Space picks "Yes", Tab goes to the stars, arrows move along them, Tab to the comment, Enter sends.
        _ = try await page.evaluate("document.getElementById('helpful-yes').focus()")
        try await page.press(" ")
        #expect(try await page.evaluate("document.getElementById('helpful-yes').checked").bool == true)
        try await page.press("Tab")
        #expect(try await page.evaluate("document.activeElement.id").string == "rating-1")
        for _ in 0..<3 { try await page.press("ArrowRight") }
        #expect(try await page.evaluate("document.querySelector('input[name=rating]:checked').value").string == "4")
        try await page.press("Tab")
        #expect(try await page.evaluate("document.activeElement.id").string == "feedback-text")
        try await page.type("Caught two real bugs <b>fast</b>")
        try await page.press("Tab")
        try await page.waitForNavigation { try await page.press("Enter") }
        #expect(try await page.text("#saved")?.hasPrefix("Thanks") == true)
        let stored = try await f.scalar(
            "SELECT concat_ws('|', user_rating, was_helpful, user_feedback) FROM playground_usage WHERE id = $1", [world.myRun])
        #expect(stored == "4|t|Caught two real bugs <b>fast</b>")
        #expect(try await page.evaluate("document.querySelector('textarea').value").string == "Caught two real bugs <b>fast</b>")
        try await page.screenshot(to: screenshots.appendingPathComponent("feedback.png").path)
    }

    /// Responsive: on a phone-sized screen nothing is wider than the screen.
    static func narrowScreen(_ page: BrowserPage, base: String, world: World) async throws {
        try await page.setViewport(width: 390, height: 844)
        for path in ["/", "/packages/" + PageFormat.pathSegment(world.package.name), "/me", "/orgs/\(world.org.uuidString.lowercased())"] {
            try await page.goto(base + path)
            let overflow = try await page.evaluate("document.documentElement.scrollWidth - window.innerWidth").number
            #expect(overflow == 0, "\(path) is \(overflow ?? -1) px wider than a phone screen")
        }
        try await page.goto(base + "/packages/" + PageFormat.pathSegment(world.package.name))
        try await page.screenshot(to: screenshots.appendingPathComponent("package-phone.png").path)
    }
}
