import Foundation
import NullableCoding

/// The prices and assumptions behind every money figure (contract, "Money and the monthly
/// report"): settings, read from the environment at start (`RuntimeConfig`). Kept as exact
/// decimals (a `Double` 0.01 is not 0.01), so `credits × price` rounds as a person would.
public struct Prices: Sendable, Equatable, Hashable {
    /// `PRICE_INDIVIDUAL_MONTHLY_USD`: the PRPM+ subscription of one user, per month.
    public var individualMonthly: Decimal
    /// `PRICE_ORG_MONTHLY_USD`: an organization's subscription, per month.
    public var orgMonthly: Decimal
    /// `PRICE_ORG_MEMBER_MONTHLY_USD`: per active member of an organization, per month.
    public var orgMemberMonthly: Decimal
    /// `CREDIT_VALUE_USD`: what one credit's run costs.
    public var creditValue: Decimal
    /// `CREDIT_PACK_USD`: what one credit costs in a one-time pack.
    public var creditPack: Decimal
    /// `HOURLY_VALUE_USD`: the value of one hour of a developer's time.
    public var hourlyValue: Decimal
    /// `MINUTES_SAVED_PER_TEST`: minutes one playground test saves against trying a prompt by hand.
    public var minutesSavedPerTest: Decimal

    /// The contract's defaults: $5, $99, $2, $0.01, $0.04, $60/h, 3 minutes.
    public init(
        individualMonthly: Decimal = 5, orgMonthly: Decimal = 99, orgMemberMonthly: Decimal = 2,
        creditValue: Decimal = Decimal(sign: .plus, exponent: -2, significand: 1),
        creditPack: Decimal = Decimal(sign: .plus, exponent: -2, significand: 4), hourlyValue: Decimal = 60,
        minutesSavedPerTest: Decimal = 3
    ) {
        self.individualMonthly = individualMonthly
        self.orgMonthly = orgMonthly
        self.orgMemberMonthly = orgMemberMonthly
        self.creditValue = creditValue
        self.creditPack = creditPack
        self.hourlyValue = hourlyValue
        self.minutesSavedPerTest = minutesSavedPerTest
    }

    /// Each setting: its environment variable, its largest accepted value and where it goes.
    public static var settings: [(name: String, maximum: Decimal, keyPath: WritableKeyPath<Prices, Decimal>)] {
        [
            ("PRICE_INDIVIDUAL_MONTHLY_USD", 1_000_000, \.individualMonthly),
            ("PRICE_ORG_MONTHLY_USD", 1_000_000, \.orgMonthly),
            ("PRICE_ORG_MEMBER_MONTHLY_USD", 1_000_000, \.orgMemberMonthly),
            ("CREDIT_VALUE_USD", 1000, \.creditValue),
            ("CREDIT_PACK_USD", 1000, \.creditPack),
            ("HOURLY_VALUE_USD", 100_000, \.hourlyValue),
            ("MINUTES_SAVED_PER_TEST", 1440, \.minutesSavedPerTest),
        ]
    }

    /// `credits × CREDIT_VALUE_USD`, in dollars with two decimals.
    public func creditsUsd(_ credits: Int) -> Double { Money.usd(Decimal(credits) * creditValue) }

    /// Hours saved by `runs` tests, exact.
    public func exactHours(runs: Int) -> Decimal { Decimal(runs) * minutesSavedPerTest / 60 }
}

/// The prices an answer's money figures were computed with (its `prices` key), so a page can
/// state its assumptions ("281 h × $60/h") and a reader can check the arithmetic.
public struct PriceSheet: Codable, Sendable, Equatable {
    public var individualMonthlyUsd: Double
    public var orgMonthlyUsd: Double
    public var orgMemberMonthlyUsd: Double
    public var creditValueUsd: Double
    public var creditPackUsd: Double
    public var hourlyValueUsd: Double
    public var minutesSavedPerTest: Double

    public init(_ prices: Prices) {
        // Through the decimal text: the nearest Double to the exact price (0.04 prints as 0.04).
        func exact(_ value: Decimal) -> Double { Double(value.description) ?? 0 }
        individualMonthlyUsd = exact(prices.individualMonthly)
        orgMonthlyUsd = exact(prices.orgMonthly)
        orgMemberMonthlyUsd = exact(prices.orgMemberMonthly)
        creditValueUsd = exact(prices.creditValue)
        creditPackUsd = exact(prices.creditPack)
        hourlyValueUsd = exact(prices.hourlyValue)
        minutesSavedPerTest = exact(prices.minutesSavedPerTest)
    }
}

/// Rounding of money and shares: money to cents, percentages and hours to one decimal, half
/// away from zero ("half-up" for the positive figures), from exact decimals.
public enum Money {
    /// Dollars with two decimals.
    public static func usd(_ value: Decimal) -> Double { rounded(value, places: 2) }

    /// One decimal (percentages, hours, multiples).
    public static func oneDecimal(_ value: Decimal) -> Double { rounded(value, places: 1) }

    /// `part / whole × 100` with one decimal; nil when `whole` is 0.
    public static func percent(_ part: Decimal, of whole: Decimal) -> Double? {
        whole == 0 ? nil : oneDecimal(part * 100 / whole)
    }

    /// `value` rounded half away from zero to `places` decimals, as the nearest `Double` (so it
    /// prints as written: 14.35, not 14.350000000000001).
    static func rounded(_ value: Decimal, places: Int) -> Double {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, places, .plain)
        let units = NSDecimalNumber(decimal: result * pow(10, places)).int64Value
        return Double(units) / pow(10, Double(places))
    }
}

/// A number of months a monthly price is paid for: one calendar month (the report), or `days
/// / 30` for a window of `days`. Multiplies before it divides, so a price × days / 30 that
/// ends in a half cent rounds exactly.
public struct Months: Sendable, Equatable {
    let numerator: Int
    let denominator: Int

    public static let one = Months(numerator: 1, denominator: 1)
    public static func window(days: Int) -> Months { Months(numerator: days, denominator: 30) }

    /// `monthly` over these months (exact up to Decimal's 38 digits).
    public func of(_ monthly: Decimal) -> Decimal { monthly * Decimal(numerator) / Decimal(denominator) }
}

/// An organization's investment and the value of its tests over a period (the monthly report,
/// the dashboard's window): `orgPrice = PRICE_ORG_MONTHLY_USD × months`, `membersPrice =
/// billed members × PRICE_ORG_MEMBER_MONTHLY_USD × months`, `value = runs ×
/// MINUTES_SAVED_PER_TEST / 60 × HOURLY_VALUE_USD` (from the exact hours), `roi = value /
/// investment` (null when the investment is 0).
public struct OrganizationMoney: Codable, Sendable, Equatable {
    /// Members of the organization with at least one run in the period (what the member price counts).
    public var billedMembers: Int
    public var orgPriceUsd: Double
    public var membersPriceUsd: Double
    public var investmentUsd: Double
    public var hoursSaved: Double
    public var valueUsd: Double
    @Nullable public var roiMultiple: Double?
    /// The prices these figures were computed with.
    public var prices: PriceSheet

    public init(runs: Int, billedMembers: Int, months: Months, prices: Prices) {
        self.prices = PriceSheet(prices)
        let orgPrice = months.of(prices.orgMonthly)
        let membersPrice = months.of(Decimal(billedMembers) * prices.orgMemberMonthly)
        let hours = prices.exactHours(runs: runs)
        let value = hours * prices.hourlyValue
        let investment = orgPrice + membersPrice
        self.billedMembers = billedMembers
        orgPriceUsd = Money.usd(orgPrice)
        membersPriceUsd = Money.usd(membersPrice)
        investmentUsd = Money.usd(investment)
        hoursSaved = Money.oneDecimal(hours)
        valueUsd = Money.usd(value)
        roiMultiple = investment == 0 ? nil : Money.oneDecimal(value / investment)
    }
}
