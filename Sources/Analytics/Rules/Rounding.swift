/// Rounding rules of the contract: half away from zero, computed exactly on integers.
public enum Rounding {
    /// `numerator / denominator` rounded half away from zero to an integer; nil when the denominator is 0.
    public static func average(_ numerator: Int, _ denominator: Int) -> Int? {
        guard denominator != 0 else { return nil }
        return divideRoundingHalfAway(numerator, denominator)
    }

    /// `numerator / denominator` rounded half away from zero to one decimal; nil when the denominator is 0.
    public static func averageOneDecimal(_ numerator: Int, _ denominator: Int) -> Double? {
        guard denominator != 0 else { return nil }
        return Double(divideRoundingHalfAway(numerator * 10, denominator)) / 10
    }

    /// `part / whole × 100` as a percentage with one decimal; nil when `whole` is 0.
    public static func percentage(_ part: Int, of whole: Int) -> Double? {
        guard whole != 0 else { return nil }
        return Double(divideRoundingHalfAway(part * 1000, whole)) / 10
    }

    /// A Double rounded half away from zero to one decimal (for values already fractional).
    public static func oneDecimal(_ value: Double) -> Double {
        (value * 10).rounded(.toNearestOrAwayFromZero) / 10
    }

    static func divideRoundingHalfAway(_ numerator: Int, _ denominator: Int) -> Int {
        let negative = (numerator < 0) != (denominator < 0)
        let n = numerator.magnitude
        let d = denominator.magnitude
        let q = (2 * n + d) / (2 * d)
        return negative ? -Int(q) : Int(q)
    }
}
