import Foundation
import NullableCoding

/// The monthly executive report of an organization (`GET …/organization/:orgId/report?month=`),
/// the contract's keys plus `previousMonth`, `nextMonth`, `complete` and `memberActivity` (what
/// the report page links to and the members CSV lists).
public struct OrganizationReport: Codable, Sendable, Equatable {
    @CanonicalUUID public var orgId: UUID
    public var orgName: String
    /// `YYYY-MM`.
    public var month: String
    /// Memberships of the organization.
    public var members: Int
    /// Members with at least one usage row of the organization in the month.
    public var activeMembers: Int
    /// `activeMembers / members × 100`, one decimal; null without members.
    @Nullable public var adoptionPct: Double?
    public var totalRuns: Int
    public var previousMonthRuns: Int
    /// `(totalRuns − previousMonthRuns) / previousMonthRuns × 100`, one decimal; null when the month before had no runs.
    @Nullable public var changePct: Double?
    public var orgPriceUsd: Double
    public var membersPriceUsd: Double
    public var investmentUsd: Double
    public var hoursSaved: Double
    public var valueUsd: Double
    /// `valueUsd / investmentUsd` from the exact figures, one decimal; null when the investment is 0.
    @Nullable public var roiMultiple: Double?
    public var topPackages: [TopPackage]
    public var teams: [Team]
    public var recommendations: [String]
    /// The month before (`YYYY-MM`).
    public var previousMonth: String
    /// The month after, null when it has not started yet.
    @Nullable public var nextMonth: String?
    /// Whether the month is over (false: the current month, so far).
    public var complete: Bool
    /// Every user with runs of the organization in the month, most runs first (then username):
    /// the organization answer's members, with their team and the value of their credits.
    public var memberActivity: [OrganizationStats.Member]
    /// The prices the money figures were computed with.
    public var prices: PriceSheet

    public struct TopPackage: Codable, Sendable, Equatable {
        public var name: String
        public var runs: Int
        public var uniqueUsers: Int
    }

    public struct Team: Codable, Sendable, Equatable {
        public var team: String
        public var runs: Int
        public var credits: Int
        public var creditsUsd: Double
    }

    /// The figures a report is made of, as the query reads them.
    public struct Figures: Sendable {
        public var org: OrganizationRef
        public var month: ReportMonth
        public var members: Int
        public var activeMembers: Int
        public var runs: Int
        public var previousRuns: Int
        /// (name, runs, distinct users), most runs first.
        public var packages: [(name: String, runs: Int, users: Int)]
        /// (team, runs, credits), most credits first.
        public var teams: [(team: String, runs: Int, credits: Int)]
        public var memberActivity: [(id: UUID, username: String, team: String, runs: Int, credits: Int, lastActive: String)]

        public init(
            org: OrganizationRef, month: ReportMonth, members: Int, activeMembers: Int, runs: Int, previousRuns: Int,
            packages: [(name: String, runs: Int, users: Int)], teams: [(team: String, runs: Int, credits: Int)],
            memberActivity: [(id: UUID, username: String, team: String, runs: Int, credits: Int, lastActive: String)]
        ) {
            self.org = org
            self.month = month
            self.members = members
            self.activeMembers = activeMembers
            self.runs = runs
            self.previousRuns = previousRuns
            self.packages = packages
            self.teams = teams
            self.memberActivity = memberActivity
        }
    }

    /// The report of `figures` with `prices`; `current` is the month in progress (UTC).
    public init(_ figures: Figures, prices: Prices, current: ReportMonth) {
        let money = OrganizationMoney(runs: figures.runs, billedMembers: figures.activeMembers, months: .one, prices: prices)
        orgId = figures.org.id
        orgName = figures.org.name
        month = figures.month.description
        members = figures.members
        activeMembers = figures.activeMembers
        adoptionPct = Rounding.percentage(figures.activeMembers, of: figures.members)
        totalRuns = figures.runs
        previousMonthRuns = figures.previousRuns
        changePct = Rounding.percentage(figures.runs - figures.previousRuns, of: figures.previousRuns)
        orgPriceUsd = money.orgPriceUsd
        membersPriceUsd = money.membersPriceUsd
        investmentUsd = money.investmentUsd
        hoursSaved = money.hoursSaved
        valueUsd = money.valueUsd
        roiMultiple = money.roiMultiple
        self.prices = money.prices
        topPackages = figures.packages.map { TopPackage(name: $0.name, runs: $0.runs, uniqueUsers: $0.users) }
        teams = figures.teams.map {
            Team(team: $0.team, runs: $0.runs, credits: $0.credits, creditsUsd: prices.creditsUsd($0.credits))
        }
        previousMonth = figures.month.previous.description
        nextMonth = figures.month < current ? figures.month.next.description : nil
        complete = figures.month < current
        memberActivity = figures.memberActivity.map {
            OrganizationStats.Member(
                user_id: $0.id, username: $0.username, runs: $0.runs, credits_spent: $0.credits, last_active: $0.lastActive, team: $0.team,
                credits_usd: prices.creditsUsd($0.credits))
        }
        recommendations = []
        recommendations = Recommendations.make(for: self)
    }
}

/// The report's recommendations, from stated rules (README, and printed under them on the page).
public enum Recommendations {
    /// Adoption at or above this (percent) is strong: an internal prompt library.
    public static let strongAdoptionPct = 80.0
    /// Adoption below this (percent) is weak: training.
    public static let weakAdoptionPct = 50.0
    /// A package with at least this share of the month's runs (percent), used by at least
    /// `heavyPackageUsers` developers, is heavy: an internal version of it.
    public static let heavyPackageSharePct = 25
    public static let heavyPackageUsers = 3
    /// A change of runs at or beyond this (percent, either way) is worth a word.
    public static let notableChangePct = 20.0

    /// The rules in the order they are written down; each gives at most one sentence.
    public static func make(for report: OrganizationReport) -> [String] {
        guard report.totalRuns > 0 else {
            return ["No tests ran in this month: start with a short demo of the playground for the team."]
        }
        var out: [String] = []
        if let adoption = report.adoptionPct {
            if adoption >= strongAdoptionPct {
                out.append(
                    "Adoption is strong (\(text(adoption))% of members active): create an internal prompt library from the packages "
                        + "the team runs most, and share success stories company-wide.")
            } else if adoption < weakAdoptionPct {
                let idle = report.members - report.activeMembers
                out.append(
                    "Only \(text(adoption))% of members ran a test: train the team on best practices, starting with the \(idle) "
                        + "member\(idle == 1 ? "" : "s") who did not run one.")
            }
        }
        if let top = report.topPackages.first, top.runs * 100 >= heavyPackageSharePct * report.totalRuns, top.uniqueUsers >= heavyPackageUsers {
            let share = Rounding.percentage(top.runs, of: report.totalRuns) ?? 0
            out.append(
                "\(top.name) is used heavily (\(top.runs) runs by \(top.uniqueUsers) developers, \(text(share))% of all tests): "
                    + "consider an internal version tuned to your codebase.")
        }
        if let change = report.changePct {
            if change <= -notableChangePct {
                out.append("Usage fell \(text(-change))% from the month before: ask the teams what stopped them.")
            } else if change >= notableChangePct {
                out.append("Usage grew \(text(change))% from the month before: keep the momentum with a show-and-tell of the best prompts.")
            }
        }
        if let roi = report.roiMultiple, roi < 1 {
            out.append("The time saved is worth less than the subscription this month: focus the seats on the members who test.")
        }
        return out
    }

    /// 94.0 → "94", 87.5 → "87.5".
    static func text(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(value) }
}
