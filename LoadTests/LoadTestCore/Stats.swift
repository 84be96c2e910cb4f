import Histogram
import NullableCoding

/// The request kinds the harness issues. `path` is a single-route run (`--path` or a phase `path`), `baseline` the
/// closed-loop `/healthz` measurement.
public enum Scenario: Int, Sendable, CaseIterable {
    case package = 0, badge, me, org, feedback, ingest, path, baseline
    /// Hostile traffic beside the mix (`Hostile.swift`): strangers' junk, expected to get 4xx/429.
    case hostile

    public var name: String {
        switch self {
        case .package: "package"
        case .badge: "badge"
        case .me: "me"
        case .org: "org"
        case .feedback: "feedback"
        case .ingest: "ingest"
        case .path: "path"
        case .baseline: "baseline"
        case .hostile: "hostile"
        }
    }

    public init?(name: String) {
        guard let match = Scenario.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public static let mixScenarios: [Scenario] = [.package, .badge, .me, .org, .feedback, .ingest, .hostile]
    /// The scope of every mix scenario but `hostile` (thresholds `normal:…`).
    public static let normalScope = "normal"
    static var allNames: String { allCases.map(\.name).joined(separator: " ") }
}

/// `X-Cache` response header value.
public enum CacheResult: UInt8, Sendable {
    case none = 0, hit, miss, stale, bypass
}

/// Failures that are not HTTP responses.
public enum TransportError: Int, Sendable, CaseIterable {
    /// No response within the per-request timeout, counted from the intended send time (includes queueing).
    case timeout = 0
    /// The connection to the target could not be established.
    case connect
    /// The connection closed or failed while the request was in flight, or the response was malformed.
    case io

    public var name: String {
        switch self {
        case .timeout: "timeout"
        case .connect: "connect"
        case .io: "io"
        }
    }
}

/// Latency values are microseconds; larger values are clamped.
let histogramMaxMicros: UInt64 = 300_000_000

func makeHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: histogramMaxMicros, numberOfSignificantValueDigits: .three)
}

/// Raw counters and a latency histogram for one scope (a scenario within a phase, a phase, the run).
public struct LatencyStats: Sendable {
    public var histogram: Histogram<UInt64>
    /// Requests with an outcome: a response or a transport error.
    public var requests = 0
    public var responses = 0
    /// Responses with status >= 400 plus transport errors.
    public var errors = 0
    /// Response counts by status code (index 0...599).
    public var statusCounts: [Int]
    public var transportErrors: [Int]
    /// hit, miss, stale, bypass (index = CacheResult.rawValue - 1).
    public var cacheCounts: [Int]

    public init() {
        histogram = makeHistogram()
        statusCounts = [Int](repeating: 0, count: 600)
        transportErrors = [Int](repeating: 0, count: TransportError.allCases.count)
        cacheCounts = [0, 0, 0, 0]
    }

    public var isEmpty: Bool { requests == 0 }

    @inline(__always)
    public mutating func recordResponse(status: Int, latencyMicros: UInt64, cache: CacheResult) {
        requests += 1
        responses += 1
        let code = (0..<600).contains(status) ? status : 0
        statusCounts[code] += 1
        if status >= 400 || status < 100 { errors += 1 }
        if cache != .none { cacheCounts[Int(cache.rawValue) - 1] += 1 }
        histogram.record(Swift.min(Swift.max(latencyMicros, 1), histogramMaxMicros))
    }

    @inline(__always)
    public mutating func recordFailure(_ kind: TransportError) {
        requests += 1
        errors += 1
        transportErrors[kind.rawValue] += 1
    }

    public mutating func merge(_ other: LatencyStats) {
        histogram.add(other.histogram)
        requests += other.requests
        responses += other.responses
        errors += other.errors
        for i in 0..<statusCounts.count { statusCounts[i] += other.statusCounts[i] }
        for i in 0..<transportErrors.count { transportErrors[i] += other.transportErrors[i] }
        for i in 0..<cacheCounts.count { cacheCounts[i] += other.cacheCounts[i] }
    }

    /// Summary with throughput computed over `seconds` of load.
    public func summary(seconds: Double) -> StatsSummary {
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 1000).rounded() / 1000 }
        let hasLatency = histogram.totalCount > 0
        let latency = LatencySummary(
            p50: hasLatency ? ms(histogram.valueAtPercentile(50)) : 0,
            p90: hasLatency ? ms(histogram.valueAtPercentile(90)) : 0,
            p99: hasLatency ? ms(histogram.valueAtPercentile(99)) : 0,
            p999: hasLatency ? ms(histogram.valueAtPercentile(99.9)) : 0,
            max: hasLatency ? ms(histogram.max) : 0,
            mean: hasLatency ? (histogram.mean / 1000 * 1000).rounded() / 1000 : 0
        )
        var byStatus: [String: Int] = [:]
        for kind in TransportError.allCases { byStatus[kind.name] = transportErrors[kind.rawValue] }
        var statuses: [String: Int] = [:]
        for (code, count) in statusCounts.enumerated() where count > 0 {
            statuses[String(code)] = count
            if code >= 400 || code < 100 { byStatus[String(code)] = count }
        }
        let cache = CacheSummary(hit: cacheCounts[0], miss: cacheCounts[1], stale: cacheCounts[2], bypass: cacheCounts[3])
        return StatsSummary(
            requests: requests,
            responses: responses,
            errors: errors,
            errorRate: requests > 0 ? Double(errors) / Double(requests) : 0,
            durationS: seconds,
            throughputRps: seconds > 0 ? Double(requests) / seconds : 0,
            latencyMs: latency,
            errorsByStatus: byStatus,
            statusCounts: statuses,
            cache: cache
        )
    }
}

public struct LatencySummary: Codable, Sendable, Equatable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double
}

public struct CacheSummary: Codable, Sendable, Equatable {
    public var hit: Int
    public var miss: Int
    public var stale: Int
    public var bypass: Int
    /// HIT / all responses carrying X-Cache; nil when none did.
    @Nullable public var hitRatio: Double?

    public init(hit: Int, miss: Int, stale: Int, bypass: Int) {
        self.hit = hit
        self.miss = miss
        self.stale = stale
        self.bypass = bypass
        let total = hit + miss + stale + bypass
        hitRatio = total > 0 ? Double(hit) / Double(total) : nil
    }

    enum CodingKeys: String, CodingKey { case hit, miss, stale, bypass, hitRatio = "hit_ratio" }
}

/// The statistics object of the report (run totals, per phase, per scenario).
public struct StatsSummary: Codable, Sendable, Equatable {
    public var requests: Int
    public var responses: Int
    public var errors: Int
    public var errorRate: Double
    public var durationS: Double
    public var throughputRps: Double
    public var latencyMs: LatencySummary
    public var errorsByStatus: [String: Int]
    public var statusCounts: [String: Int]
    public var cache: CacheSummary
    public var perScenario: [String: StatsSummary]?

    enum CodingKeys: String, CodingKey {
        case requests, responses, errors, errorRate = "error_rate", durationS = "duration_s", throughputRps = "throughput_rps",
            latencyMs = "latency_ms", errorsByStatus = "errors_by_status", statusCounts = "status_counts", cache,
            perScenario = "per_scenario"
    }
}

/// Stats of one phase on one shard: per scenario, plus 100 ms completion/error buckets for recovery analysis.
public struct PhaseRecorder: Sendable {
    public static let fineBucketNanos: UInt64 = 100_000_000

    public var startNs: UInt64
    public var scenarios: [LatencyStats?]
    /// Completions and errors per 100 ms since `startNs`.
    public var fineCompletions: [Int] = []
    public var fineErrors: [Int] = []
    /// Requests actually written to a connection.
    public var sent = 0
    /// Time the last outcome was recorded.
    public var lastEventNs: UInt64 = 0

    public init(startNs: UInt64) {
        self.startNs = startNs
        scenarios = [LatencyStats?](repeating: nil, count: Scenario.allCases.count)
    }

    @inline(__always)
    mutating func fine(_ now: UInt64, error: Bool) {
        lastEventNs = Swift.max(lastEventNs, now)
        let index = now > startNs ? Int((now - startNs) / PhaseRecorder.fineBucketNanos) : 0
        if index >= fineCompletions.count {
            let grow = index + 1 - fineCompletions.count
            fineCompletions.append(contentsOf: repeatElement(0, count: grow))
            fineErrors.append(contentsOf: repeatElement(0, count: grow))
        }
        fineCompletions[index] += 1
        if error { fineErrors[index] += 1 }
    }

    @inline(__always)
    public mutating func recordResponse(_ scenario: Scenario, status: Int, latencyMicros: UInt64, cache: CacheResult, now: UInt64) {
        if scenarios[scenario.rawValue] == nil { scenarios[scenario.rawValue] = LatencyStats() }
        scenarios[scenario.rawValue]!.recordResponse(status: status, latencyMicros: latencyMicros, cache: cache)
        fine(now, error: status >= 400 || status < 100)
    }

    @inline(__always)
    public mutating func recordFailure(_ scenario: Scenario, _ kind: TransportError, now: UInt64) {
        if scenarios[scenario.rawValue] == nil { scenarios[scenario.rawValue] = LatencyStats() }
        scenarios[scenario.rawValue]!.recordFailure(kind)
        fine(now, error: true)
    }

    public mutating func merge(_ other: PhaseRecorder) {
        for i in 0..<scenarios.count {
            guard let theirs = other.scenarios[i] else { continue }
            if scenarios[i] == nil { scenarios[i] = theirs } else { scenarios[i]!.merge(theirs) }
        }
        // Shards of one phase share startNs.
        if other.fineCompletions.count > fineCompletions.count {
            let grow = other.fineCompletions.count - fineCompletions.count
            fineCompletions.append(contentsOf: repeatElement(0, count: grow))
            fineErrors.append(contentsOf: repeatElement(0, count: grow))
        }
        for i in 0..<other.fineCompletions.count {
            fineCompletions[i] += other.fineCompletions[i]
            fineErrors[i] += other.fineErrors[i]
        }
        sent += other.sent
        lastEventNs = Swift.max(lastEventNs, other.lastEventNs)
    }

    /// All scenarios merged.
    public var total: LatencyStats {
        var all = LatencyStats()
        for stats in scenarios.compactMap({ $0 }) { all.merge(stats) }
        return all
    }

    /// Totals with a per-scenario breakdown.
    public func summary(seconds: Double) -> StatsSummary {
        var summary = total.summary(seconds: seconds)
        var per: [String: StatsSummary] = [:]
        for scenario in Scenario.allCases {
            if let stats = scenarios[scenario.rawValue], !stats.isEmpty { per[scenario.name] = stats.summary(seconds: seconds) }
        }
        // Beside hostile traffic: the service as its real users saw it.
        if let hostile = scenarios[Scenario.hostile.rawValue], !hostile.isEmpty {
            var normal = LatencyStats()
            for scenario in Scenario.allCases where scenario != .hostile && scenario != .baseline {
                if let stats = scenarios[scenario.rawValue] { normal.merge(stats) }
            }
            if !normal.isEmpty { per[Scenario.normalScope] = normal.summary(seconds: seconds) }
        }
        summary.perScenario = per
        return summary
    }
}

/// Per-second buckets over the whole run (keyed by completion time), for the live line and the report timeline.
public struct SecondBucket: Sendable {
    public var second: Int
    public var completions = 0
    public var errors = 0
    public var histogram: Histogram<UInt32>

    init(second: Int) {
        self.second = second
        histogram = Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: histogramMaxMicros, numberOfSignificantValueDigits: .two)
    }

    mutating func merge(_ other: SecondBucket) {
        completions += other.completions
        errors += other.errors
        histogram.add(other.histogram)
    }
}

public struct TimelineRecorder: Sendable {
    public let runStartNs: UInt64
    /// Buckets for seconds `firstSecond ..< firstSecond + buckets.count`.
    var firstSecond = 0
    var buckets: [SecondBucket] = []

    public init(runStartNs: UInt64) {
        self.runStartNs = runStartNs
    }

    @inline(__always)
    mutating func bucketIndex(_ now: UInt64) -> Int {
        let second = now > runStartNs ? Int((now - runStartNs) / 1_000_000_000) : 0
        if second < firstSecond {
            // A late event for a second already handed out: fold into the oldest kept bucket.
            if buckets.isEmpty { buckets.append(SecondBucket(second: firstSecond)) }
            return 0
        }
        while firstSecond + buckets.count <= second { buckets.append(SecondBucket(second: firstSecond + buckets.count)) }
        return second - firstSecond
    }

    @inline(__always)
    public mutating func record(now: UInt64, latencyMicros: UInt64?, error: Bool) {
        let i = bucketIndex(now)
        buckets[i].completions += 1
        if error { buckets[i].errors += 1 }
        if let latencyMicros { buckets[i].histogram.record(Swift.min(Swift.max(latencyMicros, 1), histogramMaxMicros)) }
    }

    /// Removes and returns the buckets of seconds `< second`.
    public mutating func take(before second: Int) -> [SecondBucket] {
        guard second > firstSecond else { return [] }
        let count = Swift.min(second - firstSecond, buckets.count)
        let taken = Array(buckets.prefix(count))
        buckets.removeFirst(count)
        firstSecond = second
        return taken
    }
}
