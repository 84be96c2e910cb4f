/// Short human counts for badge messages: `999`, `1k`, `1.2k`, `12k`, `123k`, `1.2M`, `3.4B`, `5T`.
public enum CompactNumber {
    private static let units: [(suffix: String, size: UInt64)] = [
        ("k", 1_000), ("M", 1_000_000), ("B", 1_000_000_000), ("T", 1_000_000_000_000),
    ]

    /// Formats `value` compactly.
    ///
    /// - `0…999` are written as they are.
    /// - From 1000 on, the value is divided by the largest unit (k, M, B, T) it reaches and rounded half away from
    ///   zero: one decimal while the result is below 10 (`1.2k`, `9.9M`), none from 10 on (`12k`, `123M`); a trailing
    ///   `.0` is dropped (`1000` → `1k`, `1049` → `1k`, `1050` → `1.1k`, `9950` → `10k`).
    /// - A result that rounds up to 1000 of a unit moves to the next unit (`999_500` → `1M`, never `1000k`).
    /// - Negative values get a leading `-`; beyond the trillions the count of T keeps growing (`12345T`).
    public static func format(_ value: Int) -> String {
        let magnitude = UInt64(value.magnitude)
        let sign = value < 0 ? "-" : ""
        guard magnitude >= 1_000 else { return sign + String(magnitude) }
        var index = units.lastIndex { magnitude >= $0.size } ?? 0
        while true {
            let unit = units[index]
            if magnitude < 10 * unit.size {
                // One decimal: tenths of the unit, rounded half away from zero (exact integer arithmetic).
                let tenths = (magnitude * 10 + unit.size / 2) / unit.size
                if tenths % 10 == 0 {
                    return sign + String(tenths / 10) + unit.suffix
                }
                return sign + String(tenths / 10) + "." + String(tenths % 10) + unit.suffix
            }
            let (whole, remainder) = magnitude.quotientAndRemainder(dividingBy: unit.size)
            let rounded = remainder >= unit.size - unit.size / 2 ? whole + 1 : whole
            if rounded >= 1_000 && index + 1 < units.count {
                index += 1
                continue
            }
            return sign + String(rounded) + unit.suffix
        }
    }
}
