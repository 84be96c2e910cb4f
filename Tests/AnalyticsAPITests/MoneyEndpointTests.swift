import Analytics
import AnalyticsPages
import AnalyticsRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import Settings
import TestSupport
import Testing

/// The money figures (issue 28): `user/me`'s `money` and `costAdvice`, the organization's
/// `money`, the monthly report and the CSV exports. Every expected figure is computed here by
/// SQL on the inserted rows with the settings below (Postgres `numeric`, `round` half away
/// from zero), never by the service's code.
@Suite("Money and the monthly report", .serialized)
struct MoneyEndpointTests {
    /// The settings as the test states them (the contract's defaults, which the shared app uses).
    struct PriceText {
        var individual = "5"
        var org = "99"
        var member = "2"
        var creditValue = "0.01"
        var pack = "0.04"
        var hourly = "60"
        var minutes = "3"
    }

    static func rows(_ f: Fixture, _ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> [[String?]] {
        try await f.postgres.withConnection(retryOnBrokenConnection: true) { try $0.query(sql, parameters) }.map(\.values)
    }

    static func number(_ text: String??) -> Double? { text.flatMap { $0 }.flatMap(Double.init) }

    // MARK: user/me

    /// A user who runs gpt-4o (2 credits) on two packages, claude-3-haiku (1 credit) on the same
    /// ones with a comparable success rate, and claude-3-5-sonnet (1 credit) failing often.
    static func makeSpender(_ f: Fixture) async throws -> UUID {
        let user = try await f.user("spender")
        let (p1, p2, p3) = (try await f.package("reviewer"), try await f.package("writer"), try await f.package("lonely"))
        var rows: [Fixture.Usage] = []
        func add(_ package: UUID?, _ model: String, credits: Int, count: Int, failing: Int = 0, daysAgo: Int = 1) {
            for index in 0..<count {
                var row = Fixture.Usage(user: user, package: package)
                row.model = model
                row.credits = credits
                row.error = index < failing
                row.daysAgo = daysAgo + index % 3
                rows.append(row)
            }
        }
        add(p1.id, "gpt-4o", credits: 2, count: 6, failing: 1)
        add(p2.id, "gpt-4o", credits: 3, count: 4)
        add(p3.id, "gpt-4o", credits: 2, count: 3)
        add(nil, "gpt-4o", credits: 2, count: 2)
        add(p1.id, "claude-3-haiku-20240307", credits: 1, count: 4)
        add(p2.id, "claude-3-haiku-20240307", credits: 1, count: 2)
        add(p1.id, "claude-3-5-sonnet-20241022", credits: 1, count: 6, failing: 4)
        add(p1.id, "gpt-4o-mini", credits: 1, count: 2)  // too few runs to compare
        add(p1.id, "gpt-4o", credits: 2, count: 5, daysAgo: 40)  // outside a 30-day window
        try await f.usage(rows)
        return user
    }

    /// `money` of `user` over the last `days` days, by SQL.
    static func expectedMoney(_ f: Fixture, user: UUID, days: Int, prices p: PriceText) async throws -> [String?] {
        try await rows(
            f,
            """
            WITH r AS (SELECT * FROM playground_usage
                       WHERE user_id = $1 AND created_at >= ((now() AT TIME ZONE 'UTC')::date - ($2::int - 1))::timestamp AT TIME ZONE 'UTC'),
            s AS (SELECT count(*) AS runs, coalesce(sum(credits_spent), 0) AS credits, $3::numeric * $2::int / 30 AS subscription FROM r)
            SELECT round(subscription, 2), round(credits * $4::numeric, 2), round(credits * $5::numeric, 2),
                   round(credits * $5::numeric - subscription, 2),
                   CASE WHEN credits = 0 THEN NULL ELSE round((credits * $5::numeric - subscription) * 100 / (credits * $5::numeric), 1) END,
                   round(runs * $6::numeric / 60, 1)
            FROM s
            """, [user, days, p.individual, p.creditValue, p.pack, p.minutes])[0]
    }

    /// `costAdvice` of `user` by the rule as the README states it, in SQL; nil when no model qualifies.
    static func expectedAdvice(_ f: Fixture, user: UUID, days: Int, prices p: PriceText) async throws -> [String?]? {
        try await rows(
            f,
            """
            WITH r AS (SELECT * FROM playground_usage
                       WHERE user_id = $1 AND created_at >= ((now() AT TIME ZONE 'UTC')::date - ($2::int - 1))::timestamp AT TIME ZONE 'UTC'),
            spent AS (SELECT model, count(*) AS runs, sum(credits_spent) AS credits FROM r GROUP BY model
                      ORDER BY 3 DESC, 2 DESC, 1 ASC LIMIT 1),
            cells AS (SELECT model, package_id, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS ok,
                             sum(credits_spent) AS credits FROM r WHERE package_id IS NOT NULL GROUP BY 1, 2),
            pairs AS (SELECT o.model, sum(o.runs) AS a_runs, sum(o.ok) AS a_ok, sum(o.credits) AS a_credits,
                             sum(s.runs) AS s_runs, sum(s.ok) AS s_ok, sum(s.credits) AS s_credits
                      FROM cells o JOIN cells s ON s.package_id = o.package_id AND s.model = (SELECT model FROM spent)
                      WHERE o.model <> (SELECT model FROM spent) GROUP BY o.model),
            q AS (SELECT model, 1 - (a_credits::numeric / a_runs) / (s_credits::numeric / s_runs) AS share, a_ok::numeric / a_runs AS rate
                  FROM pairs
                  WHERE a_runs >= 5 AND s_runs >= 5 AND s_credits > 0 AND a_credits::numeric / a_runs < s_credits::numeric / s_runs
                    AND a_ok::numeric * 100 / a_runs >= s_ok::numeric * 100 / s_runs - 5)
            SELECT spent.model, spent.runs, round(spent.credits * $3::numeric, 2), q.model, round(q.share * 100, 1),
                   round(spent.credits * $3::numeric * q.share, 2)
            FROM q, spent ORDER BY q.share DESC, q.rate DESC, q.model ASC LIMIT 1
            """, [user, days, p.creditValue]
        ).first
    }

    static func check(_ stats: UserStats, money expected: [String?], advice: [String?]?) throws {
        let money = try #require(stats.money)
        #expect(money.subscriptionUsd == number(expected[0]))
        #expect(money.creditsValueUsd == number(expected[1]))
        #expect(money.packCostUsd == number(expected[2]))
        #expect(money.savedUsd == number(expected[3]))
        #expect(money.savedPct == number(expected[4]))
        #expect(money.hoursSaved == number(expected[5]))
        if let advice {
            let got = try #require(stats.costAdvice)
            #expect(got.model == advice[0])
            #expect(got.runs == Int(advice[1] ?? ""))
            #expect(got.creditsUsd == number(advice[2]))
            #expect(got.suggestedModel == advice[3])
            #expect(got.savingPct == number(advice[4]))
            #expect(got.savingUsd == number(advice[5]))
        } else {
            #expect(stats.costAdvice == nil)
        }
    }

    @Test(arguments: [7, 30, 90])
    func userMoneyAndCostAdvice(days: Int) async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await Self.makeSpender(f)
            let response = try await client.get("/api/v1/analytics/user/me?days=\(days)", headers: Tokens.bearer(try await Tokens.sign(user: user)))
            #expect(response.status == .ok)
            let stats = try response.json(UserStats.self)
            let advice = try await Self.expectedAdvice(f, user: user, days: days, prices: PriceText())
            try Self.check(stats, money: try await Self.expectedMoney(f, user: user, days: days, prices: PriceText()), advice: advice)
            if days == 30 {
                // The data is made so that the haiku qualifies and sonnet (too many failures) does not.
                #expect(stats.costAdvice?.suggestedModel == "claude-3-haiku-20240307")
                #expect(stats.costAdvice?.model == "gpt-4o")
            }
            #expect(response.object["costAdvice"] != nil)
        }
    }

    @Test func userWithoutRunsHasZeroMoneyAndNoAdvice() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("idle-spender")
            let response = try await client.get("/api/v1/analytics/user/me?days=30", headers: Tokens.bearer(try await Tokens.sign(user: user)))
            let stats = try response.json(UserStats.self)
            try Self.check(stats, money: try await Self.expectedMoney(f, user: user, days: 30, prices: PriceText()), advice: nil)
            #expect(stats.money?.savedUsd == -5)
            let object = response.object
            #expect(object["costAdvice"] is NSNull)
            #expect((object["money"] as? [String: Any])?["savedPct"] is NSNull)
        }
    }

    /// Other prices (settings) give other figures: the queries use the prices they are given.
    @Test func pricesAreSettings() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let user = try await Self.makeSpender(f)
        let text = PriceText(individual: "7.5", org: "120", member: "3.25", creditValue: "0.015", pack: "0.05", hourly: "75", minutes: "4.5")
        let config = try RuntimeConfig(environment: [
            "PRICE_INDIVIDUAL_MONTHLY_USD": text.individual, "PRICE_ORG_MONTHLY_USD": text.org, "PRICE_ORG_MEMBER_MONTHLY_USD": text.member,
            "CREDIT_VALUE_USD": text.creditValue, "CREDIT_PACK_USD": text.pack, "HOURLY_VALUE_USD": text.hourly,
            "MINUTES_SAVED_PER_TEST": text.minutes,
        ])
        let queries = AnalyticsQueries(postgres: postgres, prices: config.prices)
        let stats = try await queries.userStats(userId: user, window: AnalyticsWindow(days: 30))
        let advice = try await Self.expectedAdvice(f, user: user, days: 30, prices: text)
        try Self.check(stats, money: try await Self.expectedMoney(f, user: user, days: 30, prices: text), advice: advice)
        #expect(stats.money?.prices.hourlyValueUsd == 75)
        #expect(stats.money?.prices.minutesSavedPerTest == 4.5)
    }

    @Test func invalidPriceSettingsStopTheProcess() throws {
        for bad in ["abc", "-1", "1e3", "0.0000001", "nan", "inf", "", " ", "1,5", "+5", "0x10", "5.", ".5", "2000000"] {
            #expect(throws: SettingsError.self, "\(bad)") {
                try RuntimeConfig(environment: ["PRICE_ORG_MONTHLY_USD": bad])
            }
        }
        do {
            _ = try RuntimeConfig(environment: ["HOURLY_VALUE_USD": "x", "MINUTES_SAVED_PER_TEST": "-3"])
            Issue.record("accepted invalid settings")
        } catch {
            #expect(error.problems.count == 2)
            #expect(error.problems.joined().contains("HOURLY_VALUE_USD") && error.problems.joined().contains("MINUTES_SAVED_PER_TEST"))
        }
        let config = try RuntimeConfig(environment: ["CREDIT_PACK_USD": " 0.035 ", "MINUTES_SAVED_PER_TEST": "0"])
        #expect(config.prices.creditPack == Decimal(string: "0.035"))
        #expect(config.prices.minutesSavedPerTest == 0)
        #expect(try RuntimeConfig(environment: [:]).prices == Prices())
    }

    // MARK: The organization

    struct Org {
        let id: UUID
        let owner: UUID
        let member: UUID
        let month: ReportMonth
    }

    static func start(_ month: ReportMonth) -> Date {
        Date(timeIntervalSince1970: Double(DayFormat.day(month.description + "-01")! * 86_400))
    }

    /// An organization with members in teams (one with a formula-like name), rows in the last
    /// complete month, the month before, this month, and rows of a user who is not a member.
    static func makeOrganization(_ f: Fixture) async throws -> Org {
        let org = try await f.organization("report-co")
        let owner = try await f.user("owner")
        let admin = try await f.user("admin")
        let dev = try await f.user("=HYPERLINK(\"x\")")
        let plain = try await f.user("plain")
        let idle = try await f.user("idle")
        let leaver = try await f.user("leaver")
        try await f.member(org: org, user: owner, role: "owner", team: "platform")
        try await f.member(org: org, user: admin, role: "admin", team: "platform")
        try await f.member(org: org, user: dev, role: "member", team: "+frontend, \"web\"")
        try await f.member(org: org, user: plain, role: "member")
        try await f.member(org: org, user: idle, role: "maintainer", team: "-ops")
        let (p1, p2, p3) = (try await f.package("code-reviewer"), try await f.package("test-writer"), try await f.package("doc-bot"))
        let month = ReportMonth(containing: Date()).previous
        let first = start(month)
        let next = start(month.next)
        let before = start(month.previous)
        var rows: [Fixture.Usage] = []
        func add(_ user: UUID, _ package: UUID?, at: Date, credits: Int = 1, org orgId: UUID? = org) {
            var row = Fixture.Usage(user: user, package: package, org: orgId)
            row.at = at
            row.credits = credits
            rows.append(row)
        }
        for index in 0..<12 { add(owner, p1.id, at: first.addingTimeInterval(Double(index) * 3600), credits: 2) }
        for index in 0..<7 { add(dev, index < 5 ? p1.id : p2.id, at: first.addingTimeInterval(86_400 * 3 + Double(index)), credits: 3) }
        for index in 0..<4 { add(admin, p2.id, at: next.addingTimeInterval(-1 - Double(index))) }
        add(plain, p3.id, at: first)
        add(plain, nil, at: first.addingTimeInterval(86_400 * 10))
        add(leaver, p3.id, at: first.addingTimeInterval(86_400 * 2), credits: 4)
        add(owner, p1.id, at: next)  // the month after: not counted
        add(owner, p1.id, at: next.addingTimeInterval(-86_400 * 40), org: nil)  // no org
        for index in 0..<9 { add(admin, p2.id, at: before.addingTimeInterval(Double(index) * 7200)) }
        add(dev, p2.id, at: first.addingTimeInterval(-1))  // the last second of the month before
        try await f.usage(rows)
        return Org(id: org, owner: owner, member: dev, month: month)
    }

    /// `body` with the app, a fixture, `makeOrganization` and its owner's bearer header.
    static func withOrganization(_ body: @escaping @Sendable (any TestClientProtocol, Fixture, Org, HTTPFields) async throws -> Void) async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let org = try await makeOrganization(f)
            try await body(client, f, org, Tokens.bearer(try await Tokens.sign(user: org.owner)))
        }
    }

    static func expectedReport(_ f: Fixture, _ org: Org, prices p: PriceText) async throws -> (
        totals: [String?], packages: [[String?]], teams: [[String?]], members: [[String?]]
    ) {
        let window = """
            WITH r AS (SELECT u.*, coalesce(m.team, 'unassigned') AS team, m.user_id IS NOT NULL AS member FROM playground_usage u
                       LEFT JOIN organization_members m ON m.org_id = u.org_id AND m.user_id = u.user_id
                       WHERE u.org_id = $1 AND u.created_at >= ($2 || '-01')::date::timestamp AT TIME ZONE 'UTC'
                         AND u.created_at < (($2 || '-01')::date + interval '1 month') AT TIME ZONE 'UTC')
            """
        let month = org.month.description
        let totals = try await rows(
            f,
            window + """
                , t AS (SELECT (SELECT count(*) FROM organization_members WHERE org_id = $1) AS members,
                              (SELECT count(DISTINCT user_id) FROM r WHERE member) AS active, (SELECT count(*) FROM r) AS runs,
                              (SELECT count(*) FROM playground_usage WHERE org_id = $1
                                 AND created_at >= (($2 || '-01')::date - interval '1 month') AT TIME ZONE 'UTC'
                                 AND created_at < ($2 || '-01')::date::timestamp AT TIME ZONE 'UTC') AS previous)
                SELECT members, active, round(active * 100.0 / nullif(members, 0), 1), runs, previous,
                       round((runs - previous) * 100.0 / nullif(previous, 0), 1),
                       round($3::numeric, 2), round(active * $4::numeric, 2), round($3::numeric + active * $4::numeric, 2),
                       round(runs * $5::numeric / 60, 1), round(runs * $5::numeric / 60 * $6::numeric, 2),
                       round(runs * $5::numeric / 60 * $6::numeric / nullif($3::numeric + active * $4::numeric, 0), 1)
                FROM t
                """, [org.id, month, p.org, p.member, p.minutes, p.hourly])[0]
        let packages = try await rows(
            f,
            window + """
                SELECT p.name, count(*), count(DISTINCT r.user_id) FROM r JOIN packages p ON p.id = r.package_id
                GROUP BY p.name ORDER BY 2 DESC, 1 ASC LIMIT 10
                """, [org.id, month])
        let teams = try await rows(
            f,
            window + """
                SELECT team, count(*), sum(credits_spent), round(sum(credits_spent) * $3::numeric, 2) FROM r
                GROUP BY team ORDER BY 3 DESC, 1 ASC
                """, [org.id, month, p.creditValue])
        let members = try await rows(
            f,
            window + """
                SELECT x.username, r.team, count(*), sum(r.credits_spent), round(sum(r.credits_spent) * $3::numeric, 2),
                       to_char(max(r.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM r JOIN users x ON x.id = r.user_id GROUP BY x.username, r.team ORDER BY 3 DESC, 1 ASC
                """, [org.id, month, p.creditValue])
        return (totals, packages, teams, members)
    }

    @Test func monthlyReportFigures() async throws {
        try await Self.withOrganization { client, f, org, token in
            let response = try await client.get("/api/v1/analytics/organization/\(org.id)/report?month=\(org.month)", headers: token)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "private, no-store")
            let report = try response.json(OrganizationReport.self)
            let expected = try await Self.expectedReport(f, org, prices: PriceText())
            let t = expected.totals
            #expect(report.orgId == org.id)
            #expect(report.month == org.month.description)
            #expect(report.members == Int(t[0] ?? ""))
            #expect(report.activeMembers == Int(t[1] ?? ""))
            #expect(report.adoptionPct == Self.number(t[2]))
            #expect(report.totalRuns == Int(t[3] ?? ""))
            #expect(report.previousMonthRuns == Int(t[4] ?? ""))
            #expect(report.changePct == Self.number(t[5]))
            #expect(report.orgPriceUsd == Self.number(t[6]))
            #expect(report.membersPriceUsd == Self.number(t[7]))
            #expect(report.investmentUsd == Self.number(t[8]))
            #expect(report.hoursSaved == Self.number(t[9]))
            #expect(report.valueUsd == Self.number(t[10]))
            #expect(report.roiMultiple == Self.number(t[11]))
            #expect(report.topPackages.map { [$0.name, String($0.runs), String($0.uniqueUsers)] } == expected.packages.map { $0.map { $0 ?? "" } })
            #expect(
                report.teams.map { [$0.team, String($0.runs), String($0.credits), String(format: "%.2f", $0.creditsUsd)] }
                    == expected.teams.map { $0.map { $0 ?? "" } })
            #expect(
                report.memberActivity.map {
                    [
                        $0.username, $0.team ?? "", String($0.runs), String($0.credits_spent), String(format: "%.2f", $0.credits_usd ?? -1),
                        $0.last_active,
                    ]
                } == expected.members.map { $0.map { $0 ?? "" } })
            #expect(report.previousMonth == org.month.previous.description)
            #expect(report.nextMonth == org.month.next.description)
            #expect(report.complete)
            // The contract's keys, exactly spelled.
            let keys = Set(response.object.keys)
            for key in [
                "orgId", "orgName", "month", "members", "activeMembers", "adoptionPct", "totalRuns", "previousMonthRuns", "changePct",
                "orgPriceUsd", "membersPriceUsd", "investmentUsd", "hoursSaved", "valueUsd", "roiMultiple", "topPackages", "teams",
                "recommendations",
            ] { #expect(keys.contains(key), "\(key)") }
            #expect(!report.recommendations.isEmpty)

            // Without ?month: the last complete month, the same answer.
            let byDefault = try await client.get("/api/v1/analytics/organization/\(org.id)/report", headers: token).json(OrganizationReport.self)
            #expect(byDefault == report)
            // The current month has started: a report so far, with no next month.
            let current = try await client.get(
                "/api/v1/analytics/organization/\(org.id)/report?month=\(org.month.next)", headers: token
            ).json(OrganizationReport.self)
            #expect(!current.complete && current.nextMonth == nil && current.totalRuns == 1)
            // A month with no runs, long ago: zeros and nulls.
            let empty = try await client.get("/api/v1/analytics/organization/\(org.id)/report?month=2001-02", headers: token).object
            #expect(empty["totalRuns"] as? Int == 0)
            #expect(empty["changePct"] is NSNull)
            #expect(empty["valueUsd"] as? Double == 0)
        }
    }

    @Test func organizationWindowMoney() async throws {
        try await Self.withOrganization { client, f, org, token in
            for days in [7, 30, 90] {
                let stats = try await client.get("/api/v1/analytics/organization/\(org.id)?days=\(days)", headers: token).json(OrganizationStats.self)
                let p = PriceText()
                let expected = try await Self.rows(
                    f,
                    """
                    WITH r AS (SELECT u.*, m.user_id IS NOT NULL AS member FROM playground_usage u
                               LEFT JOIN organization_members m ON m.org_id = u.org_id AND m.user_id = u.user_id
                               WHERE u.org_id = $1 AND u.created_at >= ((now() AT TIME ZONE 'UTC')::date - ($2::int - 1))::timestamp AT TIME ZONE 'UTC'),
                    t AS (SELECT count(*) AS runs, count(DISTINCT user_id) FILTER (WHERE member) AS billed,
                                 $3::numeric * $2::int / 30 AS org_price, $4::numeric * $2::int / 30 AS member_price FROM r)
                    SELECT billed, round(org_price, 2), round(billed * member_price, 2), round(org_price + billed * member_price, 2),
                           round(runs * $5::numeric / 60, 1), round(runs * $5::numeric / 60 * $6::numeric, 2),
                           round(runs * $5::numeric / 60 * $6::numeric / (org_price + billed * member_price), 1)
                    FROM t
                    """, [org.id, days, p.org, p.member, p.minutes, p.hourly])[0]
                let money = try #require(stats.money)
                #expect(money.billedMembers == Int(expected[0] ?? ""))
                #expect(money.orgPriceUsd == Self.number(expected[1]))
                #expect(money.membersPriceUsd == Self.number(expected[2]))
                #expect(money.investmentUsd == Self.number(expected[3]))
                #expect(money.hoursSaved == Self.number(expected[4]))
                #expect(money.valueUsd == Self.number(expected[5]))
                #expect(money.roiMultiple == Self.number(expected[6]))
                for team in stats.teamAllocation { #expect(team.credits_usd == Double(team.credits) / 100) }
                for member in stats.memberActivity { #expect(member.credits_usd == Double(member.credits_spent) / 100 && member.team != nil) }
            }
        }
    }

    // MARK: CSV

    /// RFC 4180 fields of a CSV text (quoted fields, doubled quotes, CRLF records).
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        field.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\r\n" || c == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(c)
            }
        }
        return records
    }

    @Test func csvExportsForAMonthAndAWindow() async throws {
        try await Self.withOrganization { client, f, org, token in
            let base = "/api/v1/analytics/organization/\(org.id)"
            let expected = try await Self.expectedReport(f, org, prices: PriceText())

            let members = try await client.get("\(base)/members.csv?month=\(org.month)", headers: token)
            #expect(members.status == .ok)
            #expect(members.headers[.contentType]?.hasPrefix("text/csv; charset=utf-8") == true)
            #expect(members.headers[.cacheControl] == "private, no-store")
            #expect(members.headers[.contentDisposition]?.contains("attachment; filename=") == true)
            let text = members.text
            #expect(text.hasSuffix("\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
            let records = Self.parseCSV(text)
            #expect(records.first == ["username", "team", "runs", "credits", "creditsUsd", "lastActive"])
            let unescape = { (cell: String) in cell.hasPrefix("'") ? String(cell.dropFirst()) : cell }
            #expect(records.dropFirst().map { $0.map(unescape) } == expected.members.map { $0.map { $0 ?? "" } })
            // Formula injection: no cell starts with = + - @ unless escaped by a quote mark.
            for cell in records.joined() { #expect(!["=", "+", "-", "@"].contains(cell.first), "\(cell)") }
            #expect(text.contains("\"'=HYPERLINK(\"\"x\"\")"))
            #expect(text.contains("\"'+frontend, \"\"web\"\"\""))

            let teams = try await client.get("\(base)/teams.csv?month=\(org.month)", headers: token)
            let teamRecords = Self.parseCSV(teams.text)
            #expect(teamRecords.first == ["team", "runs", "credits", "creditsUsd"])
            #expect(teamRecords.dropFirst().map { $0.map(unescape) } == expected.teams.map { $0.map { $0 ?? "" } })

            // A window: the organization answer's members and teams.
            for path in ["\(base)/members.csv?days=90", "\(base)/members.csv"] {
                let window = try await client.get(path, headers: token)
                #expect(window.status == .ok)
                let days = path.hasSuffix("90") ? 90 : 30
                let stats = try await client.get("\(base)?days=\(days)", headers: token).json(OrganizationStats.self)
                let rows = Self.parseCSV(window.text).dropFirst().map { $0.map(unescape) }
                #expect(rows.map { $0[0] } == stats.memberActivity.map(\.username))
                #expect(rows.map { $0[2] } == stats.memberActivity.map { String($0.runs) })
                #expect(rows.map { $0[4] } == stats.memberActivity.map { String(format: "%.2f", Double($0.credits_spent) / 100) })
            }
            let windowTeams = Self.parseCSV(try await client.get("\(base)/teams.csv?days=90", headers: token).text)
            let stats = try await client.get("\(base)?days=90", headers: token).json(OrganizationStats.self)
            #expect(
                windowTeams.dropFirst().map { $0.map(unescape) }
                    == stats.teamAllocation.map { [$0.team, String($0.runs), String($0.credits), String(format: "%.2f", Double($0.credits) / 100)] })
        }
    }

    // MARK: Bad input, authorization, cache

    @Test func badInputAndAuthorization() async throws {
        try await Self.withOrganization { client, f, org, owner in
            let other = try await f.organization("other-co")
            let outsider = try await f.user("outsider")
            let member = Tokens.bearer(try await Tokens.sign(user: org.member))  // a plain member: not owner/admin
            let before = try await f.databaseDigest()
            let future = ReportMonth(containing: Date()).next.description
            let huge = String(repeating: "9", count: 5000)
            let bad: [(String, HTTPResponse.Status)] = [
                ("month=2026-13", .badRequest), ("month=2026-00", .badRequest), ("month=abc", .badRequest), ("month=", .badRequest),
                ("month=2026-1", .badRequest), ("month=2026-011", .badRequest), ("month=+2026-01", .badRequest), ("month=1999-12", .badRequest),
                ("month=2026-01%00", .badRequest), ("month=2026%0A-01", .badRequest), ("month=\(future)", .badRequest),
                ("month=9999-12", .badRequest),
                ("month=\(huge)", .badRequest), ("month=%E2%80%8F2026-01", .badRequest), ("month=2026-01&month=2026-02", .ok),
            ]
            let paths = ["report", "members.csv", "teams.csv"]
            for path in paths {
                for (query, status) in bad {
                    let response = try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)?\(query)", headers: owner)
                    #expect(response.status == status, "\(path)?\(query.prefix(40))")
                    if status == .badRequest {
                        // A NUL is refused before the route (`NulRejectionMiddleware`), as in every parameter.
                        #expect(
                            ["invalid_month", "month_not_started", "invalid_parameter"].contains(response.errorCode ?? ""),
                            "\(path)?\(query.prefix(40))")
                        #expect((response.object["error"] as? [String: Any])?["message"] is String)
                    }
                }
                #expect(
                    try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)?month=\(future)", headers: owner).errorCode
                        == "month_not_started")
                // Unauthenticated, a plain member, an outsider, another org, an unknown org, not a UUID.
                let unauthenticated = try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)")
                #expect(unauthenticated.status == .unauthorized && unauthenticated.headers[.wwwAuthenticate] == "Bearer")
                #expect(try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)", headers: member).status == .forbidden)
                let outsiderToken = Tokens.bearer(try await Tokens.sign(user: outsider))
                #expect(try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)", headers: outsiderToken).status == .forbidden)
                #expect(try await client.get("/api/v1/analytics/organization/\(other)/\(path)", headers: owner).status == .forbidden)
                #expect(try await client.get("/api/v1/analytics/organization/\(UUID())/\(path)", headers: owner).status == .forbidden)
                let notUUID = try await client.get("/api/v1/analytics/organization/acme/\(path)", headers: owner)
                #expect(notUUID.status == .forbidden && notUUID.errorCode == "forbidden")
            }
            for query in ["days=0", "days=366", "days=abc", "days=30&month=\(org.month)"] {
                for path in ["members.csv", "teams.csv"] {
                    let response = try await client.get("/api/v1/analytics/organization/\(org.id)/\(path)?\(query)", headers: owner)
                    #expect(response.status == .badRequest, "\(path)?\(query)")
                    #expect(["invalid_days", "invalid_period"].contains(response.errorCode ?? ""))
                }
            }
            #expect(try await f.databaseDigest() == before)
        }
    }

    @Test func reportIsCachedAndShowsWrites() async throws {
        try await Self.withOrganization { client, f, org, token in
            let path = "/api/v1/analytics/organization/\(org.id)/report?month=\(org.month)"
            let first = try await client.get(path, headers: token)
            #expect(first.cacheStatus == "MISS")
            let second = try await client.get(path, headers: token)
            #expect(second.cacheStatus == "HIT")
            #expect(first.text == second.text)
            // The CSV of the month reads the same entry.
            #expect(
                try await client.get("/api/v1/analytics/organization/\(org.id)/teams.csv?month=\(org.month)", headers: token).cacheStatus == "HIT")
            // A write through the API marks the organization: its reports show it (CACHE_PUBLIC_LAG_S is 0 here).
            let at = Self.start(org.month).addingTimeInterval(3600 * 30)
            let event = """
                {"userId":"\(org.owner.uuidString)","orgId":"\(org.id.uuidString)","model":"gpt-4o","tokensUsed":10,"durationMs":100,\
                "creditsSpent":1,"createdAt":"\(Timestamp.iso8601(at))"}
                """
            let ingest = try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken))
            #expect(ingest.status == .created)
            let after = try await client.get(path, headers: token).json(OrganizationReport.self)
            #expect(after.totalRuns == (try first.json(OrganizationReport.self)).totalRuns + 1)
        }
    }
}

@Suite("Monthly report page", .serialized)
struct ReportPageTests {
    @Test func ownersSeeTheReportOthersGetErrorPages() async throws {
        try await MoneyEndpointTests.withOrganization { client, f, org, _ in
            let ownerCookie = cookie(try await Tokens.sign(user: org.owner))
            let before = try await f.databaseDigest()
            let page = try await client.get("/orgs/\(org.id)/report?month=\(org.month)", headers: ownerCookie)
            #expect(page.status == .ok && page.headers[.cacheControl] == "private, no-store")
            let report = try await client.get(
                "/api/v1/analytics/organization/\(org.id)/report?month=\(org.month)", headers: Tokens.bearer(try await Tokens.sign(user: org.owner))
            ).json(OrganizationReport.self)
            let html = page.text
            #expect(html.contains(#"data-figure="totalRuns">\#(PageFormat.grouped(report.totalRuns))<"#))
            #expect(html.contains(#"data-figure="investmentUsd">\#(PageFormat.usd(report.investmentUsd))<"#))
            #expect(html.contains("@media print") && html.contains("@page"))
            // Names are escaped (the formula-like user is not on the page, the team is in the table).
            #expect(html.contains("+frontend, &quot;web&quot;") && !html.contains("+frontend, \"web\""))
            // The page's CSV links answer the API's bytes for the cookie's reader.
            for name in ["members", "teams"] {
                let viaPage = try await client.get("/orgs/\(org.id)/\(name).csv?month=\(org.month)", headers: ownerCookie)
                let viaAPI = try await client.get(
                    "/api/v1/analytics/organization/\(org.id)/\(name).csv?month=\(org.month)",
                    headers: Tokens.bearer(try await Tokens.sign(user: org.owner)))
                #expect(viaPage.status == .ok && viaPage.text == viaAPI.text)
            }
            // Not signed in: the login form (401); a plain member or an unknown org: the 403 page; a bad month: the 400 page.
            let anonymous = try await client.get("/orgs/\(org.id)/report")
            #expect(anonymous.status == .unauthorized && anonymous.text.contains("Sign in"))
            #expect(try await client.get("/orgs/\(org.id)/members.csv").status == .unauthorized)
            for (headers, path) in [
                (cookie(try await Tokens.sign(user: org.member)), "/orgs/\(org.id)/report"),
                (ownerCookie, "/orgs/\(UUID())/report"), (ownerCookie, "/orgs/not-a-uuid/report"),
                (cookie(try await Tokens.sign(user: org.member)), "/orgs/\(org.id)/teams.csv?month=\(org.month)"),
            ] {
                let refused = try await client.get(path, headers: headers)
                #expect(refused.status == .forbidden && refused.text.contains("<h1>Not allowed</h1>"), "\(path)")
            }
            for month in ["2026-13", "abc", ReportMonth(containing: Date()).next.description, "%00"] {
                let bad = try await client.get("/orgs/\(org.id)/report?month=\(month)", headers: ownerCookie)
                #expect(bad.status == .badRequest && bad.headers[.contentType]?.hasPrefix("text/html") == true, "\(month)")
            }
            #expect(try await f.databaseDigest() == before)
        }
    }
}
