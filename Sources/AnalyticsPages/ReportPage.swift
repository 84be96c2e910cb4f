import Analytics

/// `/orgs/:id/report?month=YYYY-MM`: the monthly executive report an admin forwards to
/// leadership (adoption, ROI, impact, cost by team, recommendations), laid out to print on at
/// most two A4 or Letter pages.
public struct ReportPage: Sendable {
    let title: String
    let orgName: String
    let monthTitle: String
    let complete: Bool
    let previousPath: String
    let previousTitle: String
    let hasNext: Bool
    let nextPath: String
    let nextTitle: String
    let membersCSVPath: String
    let teamsCSVPath: String
    let dashboardPath: String
    let activeMembersText: String
    let membersText: String
    let adoptionText: String
    let totalRunsText: String
    let previousRunsText: String
    let change: Change
    let investmentText: String
    let orgPriceText: String
    let membersPriceText: String
    let activeMembersCountText: String
    let memberPriceText: String
    let valueText: String
    let hoursText: String
    let hourlyText: String
    let minutesPerTest: String
    let roiText: String
    let hasPackages: Bool
    let packages: [Package]
    let hasTeams: Bool
    let teams: [Team]
    let recommendations: [String]
    let strongAdoption = PageFormat.decimal(Recommendations.strongAdoptionPct)
    let weakAdoption = PageFormat.decimal(Recommendations.weakAdoptionPct)
    let heavyShare = Recommendations.heavyPackageSharePct
    let heavyUsers = Recommendations.heavyPackageUsers
    let notableChange = PageFormat.decimal(Recommendations.notableChangePct)

    struct Change: Sendable {
        let text: String
        let direction: String
    }

    struct Package: Sendable {
        let name: String
        let runsText: String
        let usersText: String
    }

    struct Team: Sendable {
        let team: String
        let runsText: String
        let creditsText: String
        let usdText: String
    }

    public init(report: OrganizationReport) {
        let orgPath = "/orgs/\(report.orgId.uuidString.lowercased())"
        let month = Self.month(report.month)
        title = "\(report.orgName) · report \(report.month)"
        orgName = report.orgName
        monthTitle = month?.title ?? report.month
        complete = report.complete
        previousPath = "\(orgPath)/report?month=\(report.previousMonth)"
        previousTitle = Self.month(report.previousMonth)?.title ?? report.previousMonth
        hasNext = report.nextMonth != nil
        nextPath = report.nextMonth.map { "\(orgPath)/report?month=\($0)" } ?? ""
        nextTitle = report.nextMonth.map { Self.month($0)?.title ?? $0 } ?? ""
        membersCSVPath = "\(orgPath)/members.csv?month=\(report.month)"
        teamsCSVPath = "\(orgPath)/teams.csv?month=\(report.month)"
        dashboardPath = orgPath
        activeMembersText = PageFormat.grouped(report.activeMembers)
        membersText = PageFormat.grouped(report.members)
        adoptionText = report.adoptionPct.map { PageFormat.decimal($0) + "%" } ?? "–"
        totalRunsText = PageFormat.grouped(report.totalRuns)
        previousRunsText = PageFormat.grouped(report.previousMonthRuns)
        if let pct = report.changePct {
            change = Change(
                text: (pct > 0 ? "Up " : pct < 0 ? "Down " : "No change, ") + PageFormat.decimal(abs(pct)) + "%",
                direction: pct > 0 ? "up" : pct < 0 ? "down" : "flat")
        } else {
            change = Change(text: "No runs the month before", direction: "flat")
        }
        investmentText = PageFormat.usd(report.investmentUsd)
        orgPriceText = PageFormat.usd(report.orgPriceUsd)
        membersPriceText = PageFormat.usd(report.membersPriceUsd)
        activeMembersCountText = PageFormat.grouped(report.activeMembers)
        memberPriceText = PageFormat.usd(report.prices.orgMemberMonthlyUsd)
        valueText = PageFormat.usd(report.valueUsd)
        hoursText = PageFormat.decimal(report.hoursSaved)
        hourlyText = PageFormat.usd(report.prices.hourlyValueUsd)
        minutesPerTest = PageFormat.decimal(report.prices.minutesSavedPerTest)
        roiText = PageFormat.multiple(report.roiMultiple)
        hasPackages = !report.topPackages.isEmpty
        packages = report.topPackages.map {
            Package(name: $0.name, runsText: PageFormat.grouped($0.runs), usersText: PageFormat.grouped($0.uniqueUsers))
        }
        hasTeams = !report.teams.isEmpty
        teams = report.teams.map {
            Team(
                team: $0.team, runsText: PageFormat.grouped($0.runs), creditsText: PageFormat.grouped($0.credits),
                usdText: PageFormat.usd($0.creditsUsd))
        }
        recommendations = report.recommendations
    }

    static func month(_ text: String) -> ReportMonth? { try? ReportMonth.parse(text, now: .distantFuture) }
}

extension PageFormat {
    /// `usd(value)`, or "" without a value (an answer cached before it had money).
    public static func usd(_ value: Double?) -> String { value.map { usd($0) } ?? "" }

    /// A return on investment: 42.3 → "42.3×"; nil → "–".
    public static func multiple(_ value: Double?) -> String { value.map { decimal($0) + "×" } ?? "–" }

    /// Dollars as people read them: 16869 → "$16,869.00", 2.5 → "$2.50", -1 → "-$1.00".
    public static func usd(_ value: Double) -> String {
        let cents = Int((value * 100).rounded(.toNearestOrAwayFromZero))
        let whole = grouped(Int(cents.magnitude / 100))
        let fraction = cents.magnitude % 100
        return (cents < 0 ? "-" : "") + "$" + whole + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }
}
