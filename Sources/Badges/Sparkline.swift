/// The geometry of a sparkline: values scaled into a box, the highest value at its top.
enum Sparkline {
    /// Width of the chart per value, in pixels (30 days: 60 px).
    static let step = 2.0
    /// The chart's width for `count` values (at least 20 px).
    static func width(_ count: Int) -> Int { max(20, Int((Double(max(count - 1, 1)) * step).rounded(.up))) }

    /// The points of the line, inside `x0…x0+width`, `top…bottom` (SVG y grows downwards). A
    /// single value is drawn as a flat line; all zeros lie on the bottom.
    static func points(_ values: [Int], x0: Double, width: Double, top: Double, bottom: Double) -> [(x: Double, y: Double)] {
        guard !values.isEmpty else { return [] }
        let series = values.count == 1 ? [values[0], values[0]] : values
        let highest = Double(max(series.max() ?? 0, 1))
        let dx = width / Double(series.count - 1)
        return series.enumerated().map { index, value in
            (x: x0 + Double(index) * dx, y: bottom - (bottom - top) * Double(value) / highest)
        }
    }

    /// A text chart for the shields JSON: one block character per value (the last 30 at most).
    static func blocks(_ values: [Int]) -> String {
        let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let shown = values.suffix(30)
        let highest = max(shown.max() ?? 0, 1)
        return String(shown.map { value in levels[min(levels.count - 1, value * (levels.count - 1) / highest)] })
    }
}
