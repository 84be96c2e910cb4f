/// The model a package runs best on (badges, package pages).
public enum BestModel {
    /// "Best on": among models with at least 10% of the runs, the highest success rate,
    /// then the lower average duration, then more runs, then the name.
    public static func of(_ models: [PackageStats.ModelBreakdown]) -> String? {
        let total = models.reduce(0) { $0 + $1.runs }
        let eligible = models.filter { $0.runs * 10 >= total }
        return eligible.min { a, b in
            if a.success_rate != b.success_rate { return a.success_rate > b.success_rate }
            if a.avg_duration != b.avg_duration { return a.avg_duration < b.avg_duration }
            if a.runs != b.runs { return a.runs > b.runs }
            return a.model < b.model
        }?.model
    }
}
