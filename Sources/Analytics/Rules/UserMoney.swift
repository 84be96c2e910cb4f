import Foundation
import NullableCoding

/// A user's money over a window of `days` (`user/me`'s `money`): the subscription for `days /
/// 30` months, what the credits are worth, what they would cost in one-time packs, and the
/// saving against the packs.
public struct UserMoney: Codable, Sendable, Equatable {
    /// `PRICE_INDIVIDUAL_MONTHLY_USD × days / 30`.
    public var subscriptionUsd: Double
    /// `credits × CREDIT_VALUE_USD`.
    public var creditsValueUsd: Double
    /// `credits × CREDIT_PACK_USD`.
    public var packCostUsd: Double
    /// `packCost − subscription` (negative when the subscription cost more than the packs would have).
    public var savedUsd: Double
    /// `saved / packCost × 100`; null without credits.
    @Nullable public var savedPct: Double?
    /// `runs × MINUTES_SAVED_PER_TEST / 60`.
    public var hoursSaved: Double
    /// The prices these figures were computed with.
    public var prices: PriceSheet

    public init(runs: Int, credits: Int, days: Int, prices: Prices) {
        self.prices = PriceSheet(prices)
        let subscription = Months.window(days: days).of(prices.individualMonthly)
        let packCost = Decimal(credits) * prices.creditPack
        subscriptionUsd = Money.usd(subscription)
        creditsValueUsd = prices.creditsUsd(credits)
        packCostUsd = Money.usd(packCost)
        savedUsd = Money.usd(packCost - subscription)
        savedPct = Money.percent(packCost - subscription, of: packCost)
        hoursSaved = Money.oneDecimal(prices.exactHours(runs: runs))
    }
}

/// "You use gpt-4o 142 times ($2.84): try claude-3-haiku for 30 % cost savings" (`user/me`'s
/// `costAdvice`).
///
/// The rule, from the user's own runs of the window: the *spent* model is the one with the most
/// credits (then more runs, then name). Another model *qualifies* when, on the packages the user
/// ran with both, each has at least `minimumRuns` runs, it costs fewer credits per run, and its
/// success rate is at most `successTolerance` points below the spent model's. The suggestion is
/// the qualifying model with the largest saving per run (then the higher success rate, then
/// name). `savingPct` = 1 − its credits per run / the spent model's, on those packages;
/// `savingUsd` = the spent model's credits in the window × `CREDIT_VALUE_USD` × that share.
public struct CostAdvice: Codable, Sendable, Equatable {
    public var model: String
    public var runs: Int
    public var creditsUsd: Double
    public var suggestedModel: String
    public var savingPct: Double
    public var savingUsd: Double

    /// Runs each model needs on the shared packages for a comparison.
    public static let minimumRuns = 5
    /// How many points lower the suggested model's success rate may be.
    public static let successTolerance = 5

    /// The user's runs of one model on one package in the window.
    public struct Cell: Sendable, Equatable {
        public var model: String
        public var packageId: UUID
        public var runs: Int
        public var successes: Int
        public var credits: Int

        public init(model: String, packageId: UUID, runs: Int, successes: Int, credits: Int) {
            self.model = model
            self.packageId = packageId
            self.runs = runs
            self.successes = successes
            self.credits = credits
        }
    }

    /// The advice for `models` (the answer's `modelUsage`) from `cells`; nil when no model qualifies.
    public static func advise(models: [UserStats.ModelUsage], cells: [Cell], prices: Prices) -> CostAdvice? {
        guard let spent = models.max(by: { ($0.credits, $0.runs, $1.model) < ($1.credits, $1.runs, $0.model) }), spent.credits > 0
        else { return nil }
        let spentCells = Dictionary(cells.filter { $0.model == spent.model }.map { ($0.packageId, $0) }, uniquingKeysWith: { a, _ in a })
        struct Candidate {
            let model: String
            /// The saving per run as a fraction `numerator / denominator` (exact).
            let numerator: Int
            let denominator: Int
            let successTimesRuns: (Int, Int)
        }
        var best: Candidate?
        for (model, own) in Dictionary(grouping: cells.filter { $0.model != spent.model }, by: \.model) {
            let shared = own.filter { spentCells[$0.packageId] != nil }
            let (runs, successes, credits) = shared.reduce((0, 0, 0)) { ($0.0 + $1.runs, $0.1 + $1.successes, $0.2 + $1.credits) }
            let mine = shared.compactMap { spentCells[$0.packageId] }
            let (spentRuns, spentSuccesses, spentCredits) = mine.reduce((0, 0, 0)) { ($0.0 + $1.runs, $0.1 + $1.successes, $0.2 + $1.credits) }
            guard runs >= minimumRuns, spentRuns >= minimumRuns, spentCredits > 0,
                // credits / runs < spentCredits / spentRuns
                credits * spentRuns < spentCredits * runs,
                // successes / runs × 100 ≥ spentSuccesses / spentRuns × 100 − tolerance
                successes * spentRuns * 100 >= spentSuccesses * runs * 100 - successTolerance * runs * spentRuns
            else { continue }
            // 1 − (credits / runs) / (spentCredits / spentRuns)
            let candidate = Candidate(
                model: model, numerator: spentCredits * runs - credits * spentRuns, denominator: spentCredits * runs,
                successTimesRuns: (successes, runs))
            if let current = best {
                let saving = candidate.numerator * current.denominator
                let currentSaving = current.numerator * candidate.denominator
                let success = candidate.successTimesRuns.0 * current.successTimesRuns.1
                let currentSuccess = current.successTimesRuns.0 * candidate.successTimesRuns.1
                if (saving, success, current.model) > (currentSaving, currentSuccess, candidate.model) { best = candidate }
            } else {
                best = candidate
            }
        }
        guard let best else { return nil }
        let spentUsd = Decimal(spent.credits) * prices.creditValue
        let share = Decimal(best.numerator) / Decimal(best.denominator)
        return CostAdvice(
            model: spent.model, runs: spent.runs, creditsUsd: Money.usd(spentUsd), suggestedModel: best.model,
            savingPct: Money.oneDecimal(share * 100), savingUsd: Money.usd(spentUsd * share))
    }
}
