import Foundation
import Testing

@testable import Analytics

@Suite struct MoneyRulesTests {
    @Test func roundingIsHalfAwayFromZeroOnExactDecimals() {
        #expect(Money.usd(Decimal(string: "14.345")!) == 14.35)
        #expect(Money.usd(Decimal(string: "-14.345")!) == -14.35)
        #expect(Money.usd(Decimal(string: "0.005")!) == 0.01)
        #expect(Money.oneDecimal(Decimal(string: "87.45")!) == 87.5)
        #expect(Money.percent(1, of: 3) == 33.3)
        #expect(Money.percent(1, of: 0) == nil)
        // 487 credits at $0.01 and $0.04: exact cents, printed as written.
        #expect(Prices().creditsUsd(487) == 4.87)
        #expect("\(Money.usd(Decimal(487) * Prices().creditPack))" == "19.48")
        // A monthly price over days/30 months multiplies first: $99 × 5 / 30 = 16.50 exactly.
        #expect(Money.usd(Months.window(days: 5).of(99)) == 16.5)
        #expect(Money.usd(Months.window(days: 7).of(5)) == 1.17)
    }

    /// The design's example: 5,623 tests by 47 active members at the default prices.
    @Test func designExampleFigures() {
        let money = OrganizationMoney(runs: 5623, billedMembers: 47, months: .one, prices: Prices())
        #expect(money.orgPriceUsd == 99 && money.membersPriceUsd == 94 && money.investmentUsd == 193)
        #expect(money.hoursSaved == 281.2)
        #expect(money.valueUsd == 16869.0)
        #expect(money.roiMultiple == 87.4)
        let none = OrganizationMoney(runs: 10, billedMembers: 0, months: .one, prices: Prices(orgMonthly: 0))
        #expect(none.roiMultiple == nil)
        let user = UserMoney(runs: 342, credits: 487, days: 30, prices: Prices())
        #expect(user.subscriptionUsd == 5 && user.packCostUsd == 19.48 && user.savedUsd == 14.48 && user.savedPct == 74.3)
        #expect(user.hoursSaved == 17.1 && user.creditsValueUsd == 4.87)
    }

    @Test func reportMonths() throws {
        let now = Date(timeIntervalSince1970: Double(DayFormat.day("2026-12-07")! * 86_400 + 3600))
        #expect(try ReportMonth.parse(nil, now: now).description == "2026-11")
        #expect(try ReportMonth.parse("2026-12", now: now).description == "2026-12")
        #expect(try ReportMonth.parse("2000-01", now: now).description == "2000-01")
        let january = Date(timeIntervalSince1970: Double(DayFormat.day("2027-01-01")! * 86_400))
        #expect(try ReportMonth.parse(nil, now: january).description == "2026-12")
        #expect(throws: ReportMonth.Problem.notStarted) { try ReportMonth.parse("2027-01", now: now) }
        for bad in ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "２０２６-01", "1999-12", "2026-01 ", "", "-2026-1", "2026-0a"] {
            #expect(throws: ReportMonth.Problem.malformed, "\(bad)") { try ReportMonth.parse(bad, now: now) }
        }
        let month = ReportMonth(year: 2026, month: 1)
        #expect(month.previous.description == "2025-12" && month.next.description == "2026-02" && month.number == 202601)
        #expect(month.startTimestamp == "2026-01-01T00:00:00Z" && month.title == "January 2026")
    }

    static func cell(_ model: String, _ package: UUID, runs: Int, ok: Int, credits: Int) -> CostAdvice.Cell {
        CostAdvice.Cell(model: model, packageId: package, runs: runs, successes: ok, credits: credits)
    }

    @Test func costAdviceRule() {
        let (p1, p2) = (UUID(), UUID())
        let models = [
            UserStats.ModelUsage(model: "big", runs: 10, credits: 30, avg_duration: 1),
            UserStats.ModelUsage(model: "small", runs: 10, credits: 10, avg_duration: 1),
        ]
        var cells = [
            Self.cell("big", p1, runs: 10, ok: 9, credits: 30), Self.cell("small", p1, runs: 10, ok: 9, credits: 10),
        ]
        let advice = CostAdvice.advise(models: models, cells: cells, prices: Prices())
        #expect(advice == CostAdvice(model: "big", runs: 10, creditsUsd: 0.3, suggestedModel: "small", savingPct: 66.7, savingUsd: 0.2))
        // 5 points less successful still qualifies; 6 does not.
        cells[1] = Self.cell("small", p1, runs: 20, ok: 17, credits: 20)  // 85 % vs 90 %
        #expect(CostAdvice.advise(models: models, cells: cells, prices: Prices())?.suggestedModel == "small")
        cells[1] = Self.cell("small", p1, runs: 50, ok: 42, credits: 50)  // 84 %
        #expect(CostAdvice.advise(models: models, cells: cells, prices: Prices()) == nil)
        // Only packages run with both models count; too few runs there: none.
        cells = [Self.cell("big", p1, runs: 10, ok: 10, credits: 30), Self.cell("small", p2, runs: 10, ok: 10, credits: 10)]
        #expect(CostAdvice.advise(models: models, cells: cells, prices: Prices()) == nil)
        cells = [Self.cell("big", p1, runs: 10, ok: 10, credits: 30), Self.cell("small", p1, runs: 4, ok: 4, credits: 4)]
        #expect(CostAdvice.advise(models: models, cells: cells, prices: Prices()) == nil)
        // Not cheaper: none. No credits: none.
        cells = [Self.cell("big", p1, runs: 10, ok: 10, credits: 30), Self.cell("small", p1, runs: 10, ok: 10, credits: 30)]
        #expect(CostAdvice.advise(models: models, cells: cells, prices: Prices()) == nil)
        #expect(CostAdvice.advise(models: [], cells: [], prices: Prices()) == nil)
        // Equal savings: the higher success rate, then the name.
        let three = models + [UserStats.ModelUsage(model: "alpha", runs: 10, credits: 10, avg_duration: 1)]
        cells = [
            Self.cell("big", p1, runs: 10, ok: 8, credits: 30), Self.cell("small", p1, runs: 10, ok: 10, credits: 10),
            Self.cell("alpha", p1, runs: 10, ok: 9, credits: 10),
        ]
        #expect(CostAdvice.advise(models: three, cells: cells, prices: Prices())?.suggestedModel == "small")
        cells[2] = Self.cell("alpha", p1, runs: 10, ok: 10, credits: 10)
        #expect(CostAdvice.advise(models: three, cells: cells, prices: Prices())?.suggestedModel == "alpha")
    }

    static func report(members: Int, active: Int, runs: Int, previous: Int, top: (String, Int, Int)?) -> OrganizationReport {
        let figures = OrganizationReport.Figures(
            org: OrganizationRef(id: UUID(), name: "acme"), month: ReportMonth(year: 2026, month: 1), members: members, activeMembers: active,
            runs: runs, previousRuns: previous, packages: top.map { [($0.0, $0.1, $0.2)] } ?? [], teams: [], memberActivity: [])
        return OrganizationReport(figures, prices: Prices(), current: ReportMonth(year: 2026, month: 12))
    }

    @Test func recommendations() {
        let strong = Self.report(members: 50, active: 47, runs: 5623, previous: 4196, top: ("code-reviewer", 1247, 38))
        #expect(strong.recommendations.count == 2)
        #expect(strong.recommendations[0].hasPrefix("Adoption is strong (94% of members active)"))
        #expect(strong.recommendations[1].hasPrefix("Usage grew 34% from the month before"))
        let heavy = Self.report(members: 10, active: 3, runs: 100, previous: 200, top: ("doc-bot", 25, 3))
        #expect(heavy.recommendations.count == 3)
        #expect(heavy.recommendations[0].hasPrefix("Only 30% of members ran a test") && heavy.recommendations[0].contains("7 members"))
        #expect(heavy.recommendations[1].hasPrefix("doc-bot is used heavily (25 runs by 3 developers, 25% of all tests)"))
        #expect(heavy.recommendations[2].hasPrefix("Usage fell 50% from the month before"))
        let few = Self.report(members: 10, active: 6, runs: 100, previous: 100, top: ("doc-bot", 90, 2))
        #expect(few.recommendations.isEmpty)
        let low = Self.report(members: 100, active: 60, runs: 10, previous: 10, top: nil)
        #expect(low.roiMultiple == 0.1 && low.recommendations.last?.hasPrefix("The time saved is worth less") == true)
        #expect(Self.report(members: 0, active: 0, runs: 0, previous: 0, top: nil).recommendations.first?.hasPrefix("No tests ran") == true)
    }
}
