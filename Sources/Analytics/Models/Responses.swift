import Foundation
import NullableCoding

// Response bodies of the read endpoints. Top-level keys camelCase, list items snake_case,
// exactly as in the contract (section 4).

public struct PackageStats: Codable, Sendable, Equatable {
    @CanonicalUUID public var packageId: UUID
    public var packageName: String
    public var days: Int
    public var totalRuns: Int
    public var uniqueUsers: Int
    @Nullable public var successRate: Double?
    @Nullable public var avgDuration: Int?
    @Nullable public var avgTokens: Int?
    @Nullable public var avgRating: Double?
    public var modelBreakdown: [ModelBreakdown]
    public var versionBreakdown: [VersionBreakdown]
    public var dailyUsage: [PackageDay]
    @Nullable public var weekOverWeek: WeekOverWeek?
    /// Credits per run (two decimals); null without runs.
    @Nullable public var avgCost: Double?
    /// Share of `was_helpful = true` among the runs that answered it (percent, one decimal); null when none did.
    @Nullable public var helpfulRate: Double?
    /// The model the package runs best on (the badge's rule), with its figures; null without runs.
    @Nullable public var bestModel: BestModel?
    /// Rank by runs in the window among all packages (1 = most, equal runs share a rank): one
    /// more than the packages with more runs in the site-wide ranking (refreshed every
    /// `CACHE_TTL_TRENDING_S`); null without runs.
    @Nullable public var popularityRank: Int?

    public struct BestModel: Codable, Sendable, Equatable {
        public var model: String
        public var avg_duration: Int
        public var success_rate: Double

        public init(model: String, avg_duration: Int, success_rate: Double) {
            self.model = model
            self.avg_duration = avg_duration
            self.success_rate = success_rate
        }
    }

    public struct ModelBreakdown: Codable, Sendable, Equatable {
        public var model: String
        public var runs: Int
        public var avg_duration: Int
        public var success_rate: Double
    }

    public struct VersionBreakdown: Codable, Sendable, Equatable {
        public var package_version: String
        public var runs: Int
        @Nullable public var avg_rating: Double?
    }

    public struct PackageDay: Codable, Sendable, Equatable {
        public var date: String
        public var runs: Int
        public var unique_users: Int
    }
}

public struct WeekOverWeek: Codable, Sendable, Equatable {
    public var thisWeek: Int
    public var lastWeek: Int
    @Nullable public var changePct: Double?
    public var trend: String
    public var computedAt: String

    public init(thisWeek: Int, lastWeek: Int, changePct: Double?, trend: String, computedAt: String) {
        self.thisWeek = thisWeek
        self.lastWeek = lastWeek
        self.changePct = changePct
        self.trend = trend
        self.computedAt = computedAt
    }
}

public struct UserStats: Codable, Sendable, Equatable {
    @CanonicalUUID public var userId: UUID
    public var days: Int
    public var totalRuns: Int
    public var creditsSpent: Int
    public var totalTokens: Int
    @Nullable public var mostUsedModel: String?
    @Nullable public var mostTestedPackage: String?
    @Nullable public var avgResponseTime: Int?
    public var dailyActivity: [Day]
    public var modelUsage: [ModelUsage]
    public var topPackages: [TopPackage]
    /// The window's money (`UserMoney`); always written (optional only so that an entry cached
    /// before it existed still decodes).
    @Nullable public var money: UserMoney?
    /// The cheaper model for the model with the most credits (`CostAdvice`); null when none qualifies.
    @Nullable public var costAdvice: CostAdvice?

    public struct Day: Codable, Sendable, Equatable {
        public var date: String
        public var runs: Int
        public var credits: Int
    }

    public struct ModelUsage: Codable, Sendable, Equatable {
        public var model: String
        public var runs: Int
        public var credits: Int
        public var avg_duration: Int
    }

    public struct TopPackage: Codable, Sendable, Equatable {
        @CanonicalUUID public var id: UUID
        public var name: String
        public var runs: Int
        public var credits: Int
        @Nullable public var avg_rating: Double?
    }
}

public struct OrganizationStats: Codable, Sendable, Equatable {
    @CanonicalUUID public var orgId: UUID
    public var orgName: String
    public var days: Int
    public var totalRuns: Int
    public var activeMembers: Int
    public var totalMembers: Int
    public var totalCredits: Int
    public var totalTokens: Int
    @Nullable public var avgDuration: Int?
    public var memberActivity: [Member]
    public var topPackages: [TopPackage]
    public var dailyUsage: [Day]
    public var teamAllocation: [Team]
    /// Investment, value and ROI of the window (`OrganizationMoney`, prices × `days / 30`
    /// months); always written (optional only so that an entry cached before it existed still decodes).
    @Nullable public var money: OrganizationMoney?

    public struct Member: Codable, Sendable, Equatable {
        @CanonicalUUID public var user_id: UUID
        public var username: String
        public var runs: Int
        public var credits_spent: Int
        public var last_active: String
        /// The member's team (`unassigned` without one, or for a user who left the organization).
        @Nullable public var team: String?
        /// `credits_spent × CREDIT_VALUE_USD`.
        @Nullable public var credits_usd: Double?
    }

    public struct TopPackage: Codable, Sendable, Equatable {
        @CanonicalUUID public var id: UUID
        public var name: String
        public var runs: Int
        public var unique_users: Int
        @Nullable public var avg_rating: Double?
    }

    public struct Day: Codable, Sendable, Equatable {
        public var date: String
        public var runs: Int
        public var active_members: Int
        public var credits: Int
    }

    public struct Team: Codable, Sendable, Equatable {
        public var team: String
        public var credits: Int
        public var runs: Int
        /// `credits × CREDIT_VALUE_USD`.
        @Nullable public var credits_usd: Double?
    }
}

public struct TrendingPackages: Codable, Sendable, Equatable {
    @Nullable public var computedAt: String?
    public var packages: [Entry]

    public struct Entry: Codable, Sendable, Equatable {
        @CanonicalUUID public var id: UUID
        public var name: String
        public var thisWeek: Int
        public var lastWeek: Int
        @Nullable public var changePct: Double?
        public var trend: String
    }

    public init(computedAt: String?, packages: [Entry]) {
        self.computedAt = computedAt
        self.packages = packages
    }
}

/// Packages by runs in the window, most first (`GET /popular`).
public struct PopularPackages: Codable, Sendable, Equatable {
    public var days: Int
    public var packages: [Entry]

    public struct Entry: Codable, Sendable, Equatable {
        @CanonicalUUID public var id: UUID
        public var name: String
        public var runs: Int
        /// Distinct users with runs of the package in the window.
        public var uniqueUsers: Int
        /// 1 = most runs; packages with equal runs share a rank (an extra key of ours).
        public var rank: Int

        public init(id: UUID, name: String, runs: Int, uniqueUsers: Int, rank: Int) {
            self.id = id
            self.name = name
            self.runs = runs
            self.uniqueUsers = uniqueUsers
            self.rank = rank
        }
    }

    public init(days: Int, packages: [Entry]) {
        self.days = days
        self.packages = packages
    }
}

/// Site-wide totals for the home page (`GET /summary`): "Backed by 1.2M community tests".
public struct SiteSummary: Codable, Sendable, Equatable {
    public var totalRuns: Int
    /// Users with any run.
    public var uniqueUsers: Int
    public var packagesWithRuns: Int
    /// When these totals were computed (ISO-8601 UTC, `…Z`).
    public var computedAt: String

    public init(totalRuns: Int, uniqueUsers: Int, packagesWithRuns: Int, computedAt: String) {
        self.totalRuns = totalRuns
        self.uniqueUsers = uniqueUsers
        self.packagesWithRuns = packagesWithRuns
        self.computedAt = computedAt
    }
}

public struct FeedbackResult: Codable, Sendable, Equatable {
    @CanonicalUUID public var usageId: UUID
    @Nullable public var rating: Int?
    @Nullable public var wasHelpful: Bool?
    @Nullable public var feedback: String?

    public init(usageId: UUID, rating: Int?, wasHelpful: Bool?, feedback: String?) {
        self.usageId = usageId
        self.rating = rating
        self.wasHelpful = wasHelpful
        self.feedback = feedback
    }
}

public struct IngestResult: Codable, Sendable, Equatable {
    public var ids: [UUID]
    public init(ids: [UUID]) { self.ids = ids }

    enum CodingKeys: String, CodingKey { case ids }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ids.map(\.canonical), forKey: .ids)
    }
}
