import Analytics
import AnalyticsAPI
import AnalyticsPages
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// The money on the pages, in a real browser: the monthly report, the `/me` ROI card and the
/// organization's executive summary show the JSON's figures; the report links the months
/// around it and its exports, and prints on at most two A4 or Letter pages for a 50-member
/// organization (the PDFs are saved beside the browser tests' screenshots).
@Suite("Money on the pages, in a browser", .serialized)
struct ReportBrowserTests {
    static var screenshots: URL { BrowserPageTests.screenshots }

    struct World {
        let owner: UUID
        let org: UUID
        let month: ReportMonth
    }

    /// 50 members in five teams, 12 packages, runs in the last complete month and the one
    /// before, and the owner's own recent runs on two models of different cost.
    static func makeWorld(_ f: Fixture) async throws -> World {
        let org = try await f.organization("Acme Corp")
        let owner = try await f.user("olivia")
        try await f.member(org: org, user: owner, role: "owner", team: "platform")
        var members = [owner]
        let teams = ["platform", "frontend", "backend", "devops", "data"]
        for index in 1..<50 {
            let user = try await f.user("dev\(index)")
            try await f.member(org: org, user: user, role: index == 1 ? "admin" : "member", team: index % 9 == 0 ? nil : teams[index % teams.count])
            members.append(user)
        }
        var packages: [(id: UUID, name: String)] = []
        for name in [
            "code-reviewer", "test-writer", "bug-finder", "doc-writer", "sql-helper", "regex-pal", "commit-msg", "api-designer",
            "refactorer", "security-audit", "perf-tuner", "i18n-helper",
        ] {
            packages.append(try await f.package(name))
        }
        let month = ReportMonth(containing: Date()).previous
        let first = MoneyEndpointTests.start(month)
        let before = MoneyEndpointTests.start(month.previous)
        var rows: [Fixture.Usage] = []
        for index in 0..<900 {
            // 47 of the 50 members active; code-reviewer the most used.
            let user = members[(index * 7) % 47]
            var row = Fixture.Usage(user: user, package: packages[index % 3 == 0 ? 0 : (index * 5) % packages.count].id, org: org)
            row.at = first.addingTimeInterval(Double(index % 27) * 86_400 + Double(index % 20) * 3600)
            row.credits = 1 + index % 3
            rows.append(row)
        }
        for index in 0..<650 {
            var row = Fixture.Usage(user: members[index % 40], package: packages[index % packages.count].id, org: org)
            row.at = before.addingTimeInterval(Double(index % 26) * 86_400)
            rows.append(row)
        }
        for index in 0..<24 {
            var row = Fixture.Usage(user: owner, package: packages[index % 2].id)
            row.model = index < 14 ? "gpt-4o" : "claude-3-haiku-20240307"
            row.credits = index < 14 ? 2 : 1
            row.daysAgo = index % 5
            rows.append(row)
        }
        try await f.usage(rows)
        return World(owner: owner, org: org, month: month)
    }

    @Test func reportMeAndOrganizationShowTheJSONFiguresAndTheReportPrintsOnTwoPages() async throws {
        try await withBrowser { page, base, client, dependencies in
            let world = try await Self.makeWorld(Fixture(postgres: dependencies.postgres))
            let token = try await Tokens.sign(user: world.owner)
            try await Self.report(page, base: base, client: client, world: world, token: token)
            try await Self.me(page, base: base, client: client, token: token)
            try await Self.organization(page, base: base, client: client, world: world, token: token)
        }
    }

    static func figure(_ page: BrowserPage, _ name: String) async throws -> String? { try await BrowserPageTests.figure(page, name) }

    /// Each `data-figure` shows its dollars as the page writes them.
    static func expectDollars(_ page: BrowserPage, _ figures: [(String, Double)]) async throws {
        for (name, value) in figures { #expect(try await figure(page, name) == PageFormat.usd(value), "\(name)") }
    }

    static func report(_ page: BrowserPage, base: String, client: some TestClientProtocol, world: World, token: String) async throws {
        let org = world.org.uuidString.lowercased()
        // Signing in with ?token= on the report itself (what the Scripts/run link does), the default month.
        try await page.goto(base + "/orgs/\(org)/report?token=\(token)")
        #expect(try await page.evaluate("location.pathname + location.search").string == "/orgs/\(org)/report")
        let json = try await client.get("/api/v1/analytics/organization/\(org)/report?month=\(world.month)", headers: Tokens.bearer(token))
            .json(OrganizationReport.self)
        #expect(json.members == 50 && json.activeMembers == 47)
        #expect(try await figure(page, "month") == world.month.title)
        #expect(try await figure(page, "activeMembers") == PageFormat.grouped(json.activeMembers))
        #expect(try await figure(page, "members") == PageFormat.grouped(json.members))
        #expect(try await figure(page, "adoptionPct") == json.adoptionPct.map { PageFormat.decimal($0) + "%" })
        #expect(try await figure(page, "totalRuns") == PageFormat.grouped(json.totalRuns))
        #expect(try await figure(page, "previousMonthRuns") == PageFormat.grouped(json.previousMonthRuns))
        let change = try #require(json.changePct)
        #expect(try await figure(page, "changePct") == (change > 0 ? "Up " : "Down ") + PageFormat.decimal(abs(change)) + "%")
        try await expectDollars(
            page,
            [
                ("investmentUsd", json.investmentUsd), ("orgPriceUsd", json.orgPriceUsd), ("membersPriceUsd", json.membersPriceUsd),
                ("valueUsd", json.valueUsd),
            ])
        #expect(try await figure(page, "hoursSaved") == PageFormat.decimal(json.hoursSaved))
        #expect(try await figure(page, "roiMultiple") == json.roiMultiple.map { PageFormat.decimal($0) + "×" })
        #expect(try await page.texts("#top-packages tbody td:nth-child(1)") == json.topPackages.map(\.name))
        #expect(try await page.texts("#top-packages tbody td:nth-child(2)") == json.topPackages.map { PageFormat.grouped($0.runs) })
        #expect(try await page.texts("#top-packages tbody td:nth-child(3)") == json.topPackages.map { PageFormat.grouped($0.uniqueUsers) })
        #expect(try await page.texts("#teams-table tbody td:nth-child(1)") == json.teams.map(\.team))
        #expect(try await page.texts("#teams-table tbody td:nth-child(4)") == json.teams.map { PageFormat.usd($0.creditsUsd) })
        #expect(try await page.texts("#recommendation-list li") == json.recommendations)
        // The months around it, and the exports (which download with the page's cookie).
        #expect(try await page.attribute("[data-link=previous]", "href") == "/orgs/\(org)/report?month=\(world.month.previous)")
        #expect(try await page.attribute("[data-link=next]", "href") == "/orgs/\(org)/report?month=\(world.month.next)")
        let csvPath = try #require(try await page.attribute("[data-link=members-csv]", "href"))
        #expect(csvPath == "/orgs/\(org)/members.csv?month=\(world.month)")
        for (link, name) in [("members-csv", "members"), ("teams-csv", "teams")] {
            let path = try #require(try await page.attribute("[data-link=\(link)]", "href"))
            let status = try await page.evaluate("fetch('\(path)').then(r => r.status + ' ' + r.headers.get('content-type'))").string
            #expect(status == "200 text/csv; charset=utf-8; header=present")
            let downloaded = try await page.evaluate("fetch('\(path)').then(r => r.text())").string
            let api = try await client.get("/api/v1/analytics/organization/\(org)/\(name).csv?month=\(world.month)", headers: Tokens.bearer(token))
            #expect(downloaded == api.text)
            #expect(downloaded?.hasPrefix(name == "members" ? "username,team," : "team,runs,") == true)
        }
        try await page.screenshot(to: screenshots.appendingPathComponent("report.png").path)
        // Printed on A4 and on Letter: two pages at most, without the site's navigation.
        for (paper, width, height) in [("a4", 8.27, 11.69), ("letter", 8.5, 11.0)] {
            let pdf = try await page.printToPDF(paperWidth: width, paperHeight: height)
            let pages = BrowserPage.pdfPageCount(pdf)
            #expect((1...2).contains(pages), "\(paper): \(pages) pages")
            try pdf.write(to: screenshots.appendingPathComponent("report-\(paper).pdf"))
        }
        // In print: no site header, footer, month links or buttons; the figures stay.
        _ = try await page.command("Emulation.setEmulatedMedia", ["media": "print"])
        let hidden = try await page.evaluate(
            "['header', 'footer', '.report-nav'].map(s => getComputedStyle(document.querySelector(s)).display)")
        #expect(hidden.array?.compactMap(\.string) == ["none", "none", "none"])
        #expect(try await figure(page, "roiMultiple") == PageFormat.multiple(json.roiMultiple))
        _ = try await page.command("Emulation.setEmulatedMedia", ["media": ""])
        // The next month (the current one) has no next link.
        try await page.goto(base + "/orgs/\(org)/report?month=\(world.month.next)")
        #expect(try await page.text("[data-link=next]") == nil)
    }

    static func me(_ page: BrowserPage, base: String, client: some TestClientProtocol, token: String) async throws {
        try await page.goto(base + "/me")
        let json = try await client.get("/api/v1/analytics/user/me?days=30", headers: Tokens.bearer(token)).json(UserStats.self)
        let money = try #require(json.money)
        try await expectDollars(
            page,
            [
                ("subscriptionUsd", money.subscriptionUsd), ("creditsValueUsd", money.creditsValueUsd), ("packCostUsd", money.packCostUsd),
                ("savedUsd", money.savedUsd),
            ])
        #expect(try await figure(page, "savedPct") == money.savedPct.map { PageFormat.decimal($0) + "%" })
        #expect(try await figure(page, "hoursSaved") == PageFormat.decimal(money.hoursSaved) + " h")
        let advice = try #require(json.costAdvice)
        #expect(advice.model == "gpt-4o" && advice.suggestedModel == "claude-3-haiku-20240307")
        #expect(
            try await figure(page, "costAdvice")?.hasPrefix(
                "You use gpt-4o \(advice.runs) times (\(PageFormat.usd(advice.creditsUsd))): try claude-3-haiku-20240307 for \(PageFormat.decimal(advice.savingPct))% cost savings"
            ) == true)
        #expect(try await figure(page, "savingUsd") == PageFormat.usd(advice.savingUsd))
        try await page.screenshot(to: screenshots.appendingPathComponent("me-money.png").path)
    }

    static func organization(_ page: BrowserPage, base: String, client: some TestClientProtocol, world: World, token: String) async throws {
        let org = world.org.uuidString.lowercased()
        try await page.goto(base + "/orgs/\(org)?days=90")
        let json = try await client.get("/api/v1/analytics/organization/\(org)?days=90", headers: Tokens.bearer(token)).json(OrganizationStats.self)
        let money = try #require(json.money)
        try await expectDollars(
            page,
            [
                ("investmentUsd", money.investmentUsd), ("orgPriceUsd", money.orgPriceUsd), ("membersPriceUsd", money.membersPriceUsd),
                ("valueUsd", money.valueUsd),
            ])
        #expect(try await figure(page, "roiMultiple") == money.roiMultiple.map { PageFormat.decimal($0) + "×" })
        #expect(try await figure(page, "hoursSaved") == PageFormat.decimal(money.hoursSaved) + " h")
        #expect(try await page.attribute("[data-link=report]", "href") == "/orgs/\(org)/report")
        let csvPath = try #require(try await page.attribute("[data-link=teams-csv]", "href"))
        #expect(csvPath == "/orgs/\(org)/teams.csv?days=90")
        let downloaded = try await page.evaluate("fetch('\(csvPath)').then(r => r.text())").string
        let api = try await client.get("/api/v1/analytics/organization/\(org)/teams.csv?days=90", headers: Tokens.bearer(token))
        #expect(downloaded == api.text)
        try await page.screenshot(to: screenshots.appendingPathComponent("organization-money.png").path)
    }
}
