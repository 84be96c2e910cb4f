import NullableCoding

/// A pass/fail rule such as `p99<10ms`, `errors<0.1%`, `hit_ratio>0.95`, `throughput>=1000`,
/// optionally scoped to one scenario: `badge:p99<5ms` (`normal:` every mix scenario but
/// `hostile`; `server_errors` counts 5xx answers and transport errors only). In a fault phase's `check`,
/// `recovery<1s` bounds the time from the end of the `after` command (the service it restored
/// is back) to the first 1-s window without errors. `server:rss_growth<10MB` and
/// `worker:rss_growth<5MB` (also `rss_max`) bound a process's resident memory over the run's
/// recorded phases, as `/metrics` reported it (`MemoryReport`).
public struct Threshold: Sendable, Equatable, CustomStringConvertible {
    public enum Metric: String, Sendable, CaseIterable {
        case p50, p90, p99, p999, max, errors, hitRatio = "hit_ratio", throughput, recovery
        /// Answers 5xx and transport errors (timeouts, resets): what hostile traffic must never get.
        case serverErrors = "server_errors"
        case rssGrowth = "rss_growth", rssMax = "rss_max"

        /// Memory of a process (scoped `server:` or `worker:`), in MB.
        var isMemory: Bool { self == .rssGrowth || self == .rssMax }

        var isLatency: Bool {
            switch self {
            case .p50, .p90, .p99, .p999, .max, .recovery: true
            default: false
            }
        }
    }

    public enum Op: String, Sendable, CaseIterable {
        case lt = "<", le = "<=", gt = ">", ge = ">="

        public func holds(_ lhs: Double, _ rhs: Double) -> Bool {
            switch self {
            case .lt: lhs < rhs
            case .le: lhs <= rhs
            case .gt: lhs > rhs
            case .ge: lhs >= rhs
            }
        }
    }

    /// The expression as written.
    public let expression: String
    public let scenario: String?
    public let metric: Metric
    public let op: Op
    /// Normalised bound: milliseconds for latencies, a fraction (0...1) for errors and hit_ratio, req/s for throughput, MB for memory.
    public let bound: Double

    public var description: String { expression }

    public init(parsing text: String) throws(LoadTestError) {
        let expr = text.filter { !$0.isWhitespace }
        guard !expr.isEmpty else { throw .config("empty threshold") }
        self.expression = text.trimmingSpaces()
        var body = Substring(expr)
        if let colon = body.firstIndex(of: ":") {
            let scope = String(body[..<colon])
            guard !scope.isEmpty, Scenario(name: scope) != nil || scope == Scenario.normalScope || Self.processes.contains(scope) else {
                throw .config("threshold '\(text)': unknown scenario '\(scope)' (known: \(Scenario.allNames))")
            }
            self.scenario = scope
            body = body[body.index(after: colon)...]
        } else {
            self.scenario = nil
        }
        guard let opStart = body.firstIndex(where: { $0 == "<" || $0 == ">" }) else {
            throw .config("threshold '\(text)': expected METRIC OP VALUE with OP one of < <= > >=")
        }
        var metricName = body[..<opStart].lowercased()
        if metricName == "p99.9" { metricName = "p999" }
        if metricName == "error_rate" || metricName == "error" { metricName = "errors" }
        if metricName == "rps" { metricName = "throughput" }
        guard let metric = Metric(rawValue: metricName) else {
            throw .config(
                "threshold '\(text)': unknown metric '\(metricName)' (p50 p90 p99 p999 max errors server_errors hit_ratio throughput rss_growth rss_max)"
            )
        }
        let isProcess = scenario.map(Self.processes.contains) ?? false
        guard metric.isMemory == isProcess else {
            throw .config("threshold '\(text)': rss_growth and rss_max go with a process (server: or worker:), and only they do")
        }
        var valueStart = body.index(after: opStart)
        var opText = String(body[opStart])
        if valueStart < body.endIndex, body[valueStart] == "=" {
            opText.append("=")
            valueStart = body.index(after: valueStart)
        }
        guard let op = Op(rawValue: opText) else { throw .config("threshold '\(text)': bad operator") }
        let valueText = body[valueStart...]
        let numberEnd = valueText.firstIndex(where: { !($0.isNumber || $0 == "." || $0 == "e" || $0 == "E") }) ?? valueText.endIndex
        let numberText = valueText[..<numberEnd]
        let unit = valueText[numberEnd...].lowercased()
        guard !numberText.isEmpty, let number = Double(numberText), number.isFinite, number >= 0 else {
            throw .config("threshold '\(text)': expected a non-negative number after '\(opText)'")
        }
        let bound: Double
        switch metric {
        case .p50, .p90, .p99, .p999, .max, .recovery:
            switch unit {
            case "", "ms": bound = number
            case "us", "µs": bound = number / 1000
            case "s": bound = number * 1000
            default: throw .config("threshold '\(text)': latency unit must be us, ms or s (got '\(unit)')")
            }
        case .errors, .hitRatio, .serverErrors:
            switch unit {
            case "%": bound = number / 100
            case "": bound = number
            default: throw .config("threshold '\(text)': \(metric.rawValue) takes a fraction or a percentage (got '\(unit)')")
            }
            guard bound <= 1 else { throw .config("threshold '\(text)': \(metric.rawValue) must be within 0...1 (or 0%...100%)") }
        case .rssGrowth, .rssMax:
            let perMB: [String: Double] = ["b": 1.0 / 1_048_576, "kb": 1.0 / 1024, "mb": 1, "gb": 1024]
            guard let scale = perMB[unit] else { throw .config("threshold '\(text)': memory takes B, KB, MB or GB (got '\(unit)')") }
            bound = number * scale
        case .throughput:
            guard unit == "" || unit == "rps" || unit == "/s" else {
                throw .config("threshold '\(text)': throughput takes requests per second (got '\(unit)')")
            }
            bound = number
        }
        self.metric = metric
        self.op = op
        self.bound = bound
    }

    /// The measured value in the threshold's unit, or nil when there is no data (which fails the threshold).
    public func value(in summary: StatsSummary) -> Double? {
        let stats: StatsSummary
        if let scenario {
            guard let scoped = summary.perScenario?[scenario] else { return nil }
            stats = scoped
        } else {
            stats = summary
        }
        switch metric {
        case .p50: return stats.requests > 0 ? stats.latencyMs.p50 : nil
        case .p90: return stats.requests > 0 ? stats.latencyMs.p90 : nil
        case .p99: return stats.requests > 0 ? stats.latencyMs.p99 : nil
        case .p999: return stats.requests > 0 ? stats.latencyMs.p999 : nil
        case .max: return stats.requests > 0 ? stats.latencyMs.max : nil
        case .errors: return stats.requests > 0 ? stats.errorRate : nil
        case .serverErrors:
            guard stats.requests > 0 else { return nil }
            let failures =
                stats.statusCounts.reduce(0) { total, entry in total + ((Int(entry.key) ?? 0) >= 500 ? entry.value : 0) }
                + TransportError.allCases.reduce(0) { $0 + (stats.errorsByStatus[$1.name] ?? 0) }
            return Double(failures) / Double(stats.requests)
        case .hitRatio: return stats.cache.hitRatio
        case .throughput: return stats.throughputRps
        case .recovery, .rssGrowth, .rssMax: return nil  // a property of a fault phase or a process, not of the statistics
        }
    }

    /// The scopes of memory thresholds.
    static let processes: Set<String> = ["server", "worker"]

    /// `rss_growth` / `rss_max` of the scoped process (nil, which fails, without its figures).
    public func evaluate(_ memory: MemoryReport?, scope: String = "run") -> ThresholdResult {
        let span = scenario == "worker" ? memory?.worker : memory?.server
        let measured = span.map { metric == .rssMax ? $0.maxMb : $0.growthMb }
        return ThresholdResult(expr: expression, scope: scope, value: measured, passed: measured.map { op.holds($0, bound) } ?? false)
    }

    /// `recovery` in a fault phase: milliseconds from the end of its `after` command to the
    /// first error-free second (nil, which fails, when it never recovered or has no `after`).
    public func evaluate(_ fault: FaultReport, scope: String) -> ThresholdResult {
        var measured: Double?
        if let recovery = fault.recoveryS, let after = fault.after {
            measured = Swift.max(0, recovery - after.durationS) * 1000
        }
        return ThresholdResult(expr: expression, scope: scope, value: measured, passed: measured.map { op.holds($0, bound) } ?? false)
    }

    public func evaluate(_ summary: StatsSummary, scope: String = "run") -> ThresholdResult {
        let measured = value(in: summary)
        let passed = measured.map { op.holds($0, bound) } ?? false
        return ThresholdResult(expr: expression, scope: scope, value: measured, passed: passed)
    }
}

public struct ThresholdResult: Codable, Sendable, Equatable {
    public var expr: String
    /// `run`, `phase:NAME` or `step:NAME@RATE`.
    public var scope: String
    /// Milliseconds for latencies, a fraction for errors/hit_ratio, req/s for throughput, MB for memory; nil when there was no data.
    @Nullable public var value: Double?
    public var passed: Bool

    enum CodingKeys: String, CodingKey { case expr, scope, value, passed }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
