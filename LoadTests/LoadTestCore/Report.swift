import Foundation
import NullableCoding

/// The run report (`--json`). Run totals cover the recorded phases only (see `PhaseSpec.isRecorded`).
public struct RunReport: Codable, Sendable {
    public var tool = "prpm-loadtest"
    public var schemaVersion = 1
    public var startedAt: String
    public var target: String
    public var profile: String
    /// "open" (constant arrival rate), "closed", or "mixed" when phases differ.
    public var mode: String
    public var connections: Int
    public var threads: Int
    public var timeoutS: Double
    public var seed: UInt64
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
    public var perScenario: [String: StatsSummary]
    public var phases: [PhaseReport]
    public var timeline: [TimelinePoint]
    @Nullable public var baseline: BaselineReport?
    public var server: ServerReport
    public var thresholds: [ThresholdResult]
    public var passed: Bool
    public var warnings: [String]
    /// The half-open connections of the profile (`half_open`), if any.
    @Nullable public var halfOpen: HalfOpenReport?

    enum CodingKeys: String, CodingKey {
        case tool, schemaVersion = "schema_version", startedAt = "started_at", target, profile, mode, connections, threads,
            timeoutS = "timeout_s", seed, requests, responses, errors, errorRate = "error_rate", durationS = "duration_s",
            throughputRps = "throughput_rps", latencyMs = "latency_ms", errorsByStatus = "errors_by_status",
            statusCounts = "status_counts", cache, perScenario = "per_scenario", phases, timeline, baseline, server, thresholds,
            passed, warnings, halfOpen = "half_open"
    }

    public init(
        startedAt: String, target: String, profile: String, mode: String, connections: Int, threads: Int, timeoutS: Double,
        seed: UInt64, totals: StatsSummary, phases: [PhaseReport], timeline: [TimelinePoint], baseline: BaselineReport?,
        server: ServerReport, thresholds: [ThresholdResult], warnings: [String], halfOpen: HalfOpenReport? = nil
    ) {
        self.halfOpen = halfOpen
        self.startedAt = startedAt
        self.target = target
        self.profile = profile
        self.mode = mode
        self.connections = connections
        self.threads = threads
        self.timeoutS = timeoutS
        self.seed = seed
        requests = totals.requests
        responses = totals.responses
        errors = totals.errors
        errorRate = totals.errorRate
        durationS = totals.durationS
        throughputRps = totals.throughputRps
        latencyMs = totals.latencyMs
        errorsByStatus = totals.errorsByStatus
        statusCounts = totals.statusCounts
        cache = totals.cache
        perScenario = totals.perScenario ?? [:]
        self.phases = phases
        self.timeline = timeline
        self.baseline = baseline
        self.server = server
        self.thresholds = thresholds
        passed = thresholds.allSatisfy(\.passed)
        self.warnings = warnings
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

public struct PhaseReport: Codable, Sendable {
    public var name: String
    public var kind: PhaseSpec.Kind
    public var recorded: Bool
    /// Target arrival rate (open loop); nil for closed loop and step-up.
    public var rate: Double?
    public var path: String?
    /// Seconds of load (issuing window), and wall time including the drain.
    public var durationS: Double
    public var elapsedS: Double
    public var stats: StatsSummary
    public var checks: [ThresholdResult]
    public var steps: [StepReport]?
    public var saturation: Saturation?
    public var fault: FaultReport?

    enum CodingKeys: String, CodingKey {
        case name, kind, recorded, rate, path, durationS = "duration_s", elapsedS = "elapsed_s", stats, checks, steps, saturation,
            fault
    }
}

public struct StepReport: Codable, Sendable {
    public var rate: Double
    public var requests: Int
    public var throughputRps: Double
    public var p50Ms: Double
    public var p99Ms: Double
    public var errorRate: Double
    public var passed: Bool
    public var failed: [String]

    enum CodingKeys: String, CodingKey {
        case rate, requests, throughputRps = "throughput_rps", p50Ms = "p50_ms", p99Ms = "p99_ms", errorRate = "error_rate", passed,
            failed
    }
}

public struct Saturation: Codable, Sendable {
    /// Last step rate that met `stop_when`; nil when the first step already failed.
    @Nullable public var rateRps: Double?
    @Nullable public var throughputRps: Double?
    /// False when every step passed (saturation lies above `max_rate`).
    public var reached: Bool
    public var stopWhen: [String]

    enum CodingKeys: String, CodingKey {
        case rateRps = "rate_rps", throughputRps = "throughput_rps", reached, stopWhen = "stop_when"
    }
}

public struct CommandReport: Codable, Sendable, Equatable {
    public var command: String
    public var exitCode: Int32?
    /// Offset from the phase start.
    public var startedAtS: Double
    public var durationS: Double
    public var timedOut: Bool
    public var outputTail: String

    enum CodingKeys: String, CodingKey {
        case command, exitCode = "exit_code", startedAtS = "started_at_s", durationS = "duration_s", timedOut = "timed_out",
            outputTail = "output_tail"
    }
}

public struct FaultReport: Codable, Sendable {
    @Nullable public var before: CommandReport?
    @Nullable public var after: CommandReport?
    /// From the phase start to the `after` command.
    public var requestsDuring: Int
    public var errorsDuring: Int
    public var errorRateDuring: Double
    /// From the `after` command to the phase end.
    public var requestsAfter: Int
    public var errorsAfter: Int
    public var errorRateAfter: Double
    @Nullable public var firstErrorS: Double?
    @Nullable public var lastErrorS: Double?
    /// Seconds from the `after` command (or, without one, from the first error) to the start of the first 1-s window
    /// with completions and no errors; nil if that never happened within the phase.
    @Nullable public var recoveryS: Double?
    public var recovered: Bool

    enum CodingKeys: String, CodingKey {
        case before, after, requestsDuring = "requests_during", errorsDuring = "errors_during", errorRateDuring = "error_rate_during",
            requestsAfter = "requests_after", errorsAfter = "errors_after", errorRateAfter = "error_rate_after",
            firstErrorS = "first_error_s", lastErrorS = "last_error_s", recoveryS = "recovery_s", recovered
    }
}

public struct TimelinePoint: Codable, Sendable, Equatable {
    /// Second since the run start (completion time).
    public var t: Int
    public var phase: String
    /// Completions in that second.
    public var rps: Int
    public var p50: Double
    public var p99: Double
    public var max: Double
    public var errors: Int
}

public struct BaselineReport: Codable, Sendable, Equatable {
    public var path: String
    public var durationS: Double
    public var requests: Int
    public var errors: Int
    public var throughputRps: Double
    public var p50: Double
    public var p99: Double
    /// Main (recorded) throughput / baseline throughput.
    @Nullable public var ratio: Double?
    /// Main p99 / baseline p99.
    @Nullable public var p99Ratio: Double?

    enum CodingKeys: String, CodingKey {
        case path, durationS = "duration_s", requests, errors, throughputRps = "throughput_rps", p50, p99, ratio,
            p99Ratio = "p99_ratio"
    }
}

public struct ServerReport: Codable, Sendable {
    /// Whether `/metrics` could be scraped at start and end.
    public var available: Bool
    public var scrapes: Int
    /// Delta of `prpm_http_requests_total` over the run, excluding the `/metrics` route.
    @Nullable public var requestsCountedByServer: Int?
    /// Requests the harness wrote over the same span (baseline and unrecorded phases included).
    public var harnessRequestsSent: Int
    @Nullable public var requestsByStatus: [String: Int]?
    @Nullable public var requestsByRoute: [String: Int]?
    /// Delta of `prpm_cache_requests_total` by endpoint and result.
    @Nullable public var cacheByEndpoint: [String: [String: Int]]?
    @Nullable public var serverHitRatio: Double?
    /// `prpm_worker_refresh_lag_seconds`: last scraped value and maximum over the scrapes.
    @Nullable public var refreshLagS: Double?
    @Nullable public var refreshLagMaxS: Double?
    @Nullable public var streamPending: Double?
    @Nullable public var streamPendingMax: Double?
    /// Mean of `prpm_worker_job_duration_seconds` per job over the run (Δsum/Δcount); cumulative when no job ran.
    public var jobMeanDurationS: [String: Double]
    public var jobRuns: [String: Int]
    /// Resident memory of the server and the worker over the run (nil without process metrics).
    @Nullable public var memory: MemoryReport?
    @Nullable public var note: String?

    enum CodingKeys: String, CodingKey {
        case available, scrapes, requestsCountedByServer = "requests_counted_by_server", harnessRequestsSent = "harness_requests_sent",
            requestsByStatus = "requests_by_status", requestsByRoute = "requests_by_route", cacheByEndpoint = "cache_by_endpoint",
            serverHitRatio = "server_hit_ratio", refreshLagS = "refresh_lag_s", refreshLagMaxS = "refresh_lag_max_s",
            streamPending = "stream_pending", streamPendingMax = "stream_pending_max", jobMeanDurationS = "job_mean_duration_s",
            jobRuns = "job_runs", memory, note
    }

    public static func unavailable(note: String, sent: Int) -> ServerReport {
        ServerReport(available: false, scrapes: 0, harnessRequestsSent: sent, jobMeanDurationS: [:], jobRuns: [:], note: note)
    }

    /// Deltas between the first and last snapshot; gauges from all snapshots.
    public static func from(snapshots: [PromSnapshot], sent: Int, metricsPath: String) -> ServerReport {
        guard let first = snapshots.first, let last = snapshots.last, snapshots.count >= 2 else {
            return .unavailable(note: "fewer than two /metrics scrapes succeeded", sent: sent)
        }
        var report = ServerReport(available: true, scrapes: snapshots.count, harnessRequestsSent: sent, jobMeanDurationS: [:], jobRuns: [:])
        let requestsName = "prpm_http_requests_total"
        let notMetrics: ([String: String]) -> Bool = { $0["route"] != metricsPath && $0["path"] != metricsPath }
        var reset = false
        let requestDeltas = counterDeltas(requestsName, first, last, reset: &reset)
        if !requestDeltas.isEmpty {
            let counted = requestDeltas.filter { notMetrics($0.labels) }
            report.requestsCountedByServer = Int(counted.reduce(0) { $0 + $1.value }.rounded())
            report.requestsByStatus = grouped(counted, by: "status")
            report.requestsByRoute = grouped(counted, by: "route")
        } else {
            report.note = "prpm_http_requests_total not exposed"
        }
        let cacheDeltas = counterDeltas("prpm_cache_requests_total", first, last, reset: &reset)
        if !cacheDeltas.isEmpty {
            var byEndpoint: [String: [String: Int]] = [:]
            var hits = 0, total = 0
            for sample in cacheDeltas {
                let d = Int(sample.value.rounded())
                let endpoint = sample.labels["endpoint"] ?? "", result = (sample.labels["result"] ?? "").lowercased()
                byEndpoint[endpoint, default: [:]][result, default: 0] += d
                total += d
                if result == "hit" { hits += d }
            }
            report.cacheByEndpoint = byEndpoint
            report.serverHitRatio = total > 0 ? Double(hits) / Double(total) : nil
        }
        if reset {
            report.note =
                (report.note.map { $0 + "; " } ?? "")
                + "a counter went down during the run (server restarted?): deltas count from the restart for those series"
        }
        let lags = snapshots.compactMap { $0.sum("prpm_worker_refresh_lag_seconds") }
        report.refreshLagS = lags.last
        report.refreshLagMaxS = lags.max()
        let pending = snapshots.compactMap { $0.sum("prpm_worker_stream_pending") }
        report.streamPending = pending.last
        report.streamPendingMax = pending.max()
        let sumName = "prpm_worker_job_duration_seconds_sum", countName = "prpm_worker_job_duration_seconds_count"
        let sums0 = first.sum(sumName, by: "job"), sums1 = last.sum(sumName, by: "job")
        let counts0 = first.sum(countName, by: "job"), counts1 = last.sum(countName, by: "job")
        for (job, count1) in counts1 {
            let dCount = count1 - (counts0[job] ?? 0)
            let dSum = (sums1[job] ?? 0) - (sums0[job] ?? 0)
            report.jobRuns[job] = Int(dCount.rounded())
            if dCount > 0 {
                report.jobMeanDurationS[job] = dSum / dCount
            } else if count1 > 0, let s = sums1[job] {
                report.jobMeanDurationS[job] = s / count1
            }
        }
        return report
    }

    /// Per-series increase of a counter between two snapshots; a series that went down was reset and counts from zero.
    static func counterDeltas(_ name: String, _ first: PromSnapshot, _ last: PromSnapshot, reset: inout Bool) -> [PromSample] {
        func key(_ labels: [String: String]) -> String {
            labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        }
        var before: [String: Double] = [:]
        for sample in first.samples(named: name) { before[key(sample.labels), default: 0] += sample.value }
        return last.samples(named: name).map { sample in
            let start = before[key(sample.labels)] ?? 0
            if sample.value < start { reset = true }
            return PromSample(name: name, labels: sample.labels, value: sample.value >= start ? sample.value - start : sample.value)
        }
    }

    static func grouped(_ samples: [PromSample], by label: String) -> [String: Int] {
        var out: [String: Int] = [:]
        for sample in samples {
            let d = Int(sample.value.rounded())
            if d != 0 { out[sample.labels[label] ?? "", default: 0] += d }
        }
        return out
    }
}

// MARK: - text

extension RunReport {
    public func renderText() -> String {
        var out = ""
        func line(_ s: String = "") { out += s + "\n" }
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        func pct(_ v: Double) -> String { String(format: "%.3f%%", v * 100) }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

        line("prpm-loadtest — \(profile) against \(target)  (\(mode), \(connections) connections, \(threads) thread(s))")
        line("")
        let header =
            pad("phase", 22) + lpad("rate", 9) + lpad("requests", 10) + lpad("rps", 10) + lpad("p50 ms", 9) + lpad("p90 ms", 9)
            + lpad("p99 ms", 9) + lpad("p99.9 ms", 10) + lpad("max ms", 9) + lpad("errors", 10)
        line(header)
        line(String(repeating: "-", count: header.count))
        func row(_ name: String, _ rate: String, _ s: StatsSummary) {
            line(
                pad(name, 22) + lpad(rate, 9) + lpad(String(s.requests), 10) + lpad(f(s.throughputRps, 1), 10) + lpad(f(s.latencyMs.p50), 9)
                    + lpad(f(s.latencyMs.p90), 9) + lpad(f(s.latencyMs.p99), 9) + lpad(f(s.latencyMs.p999), 10)
                    + lpad(f(s.latencyMs.max), 9) + lpad(pct(s.errorRate), 10)
            )
        }
        if let baseline {
            line(
                pad("baseline " + baseline.path, 22) + lpad("closed", 9) + lpad(String(baseline.requests), 10)
                    + lpad(f(baseline.throughputRps, 1), 10) + lpad(f(baseline.p50), 9) + lpad("", 9) + lpad(f(baseline.p99), 9)
            )
        }
        for phase in phases {
            let rate = phase.rate.map { f($0, 0) } ?? (phase.kind == .stepup ? "step" : "closed")
            row((phase.recorded ? "" : "(") + phase.name + (phase.recorded ? "" : ")"), rate, phase.stats)
            for step in phase.steps ?? [] {
                line(
                    pad("  @" + f(step.rate, 0) + (step.passed ? "" : " ✗"), 22) + lpad("", 9) + lpad(String(step.requests), 10)
                        + lpad(f(step.throughputRps, 1), 10) + lpad(f(step.p50Ms), 9) + lpad("", 9) + lpad(f(step.p99Ms), 9)
                        + lpad("", 10) + lpad("", 9) + lpad(pct(step.errorRate), 10)
                )
            }
        }
        line(String(repeating: "-", count: header.count))
        row(
            "TOTAL (recorded)", "",
            StatsSummary(
                requests: requests, responses: responses, errors: errors, errorRate: errorRate, durationS: durationS,
                throughputRps: throughputRps, latencyMs: latencyMs, errorsByStatus: errorsByStatus, statusCounts: statusCounts, cache: cache
            ))
        line("(unrecorded phases in parentheses; latency counted from the intended send time in open-loop phases)")
        if !perScenario.isEmpty {
            line("")
            line(
                pad("scenario", 22) + lpad("requests", 10) + lpad("p50 ms", 9) + lpad("p99 ms", 9) + lpad("max ms", 9) + lpad("errors", 10)
                    + lpad("hit ratio", 11))
            for (name, s) in perScenario.sorted(by: { $0.value.requests > $1.value.requests }) {
                line(
                    pad(name, 22) + lpad(String(s.requests), 10) + lpad(f(s.latencyMs.p50), 9) + lpad(f(s.latencyMs.p99), 9)
                        + lpad(f(s.latencyMs.max), 9) + lpad(pct(s.errorRate), 10) + lpad(s.cache.hitRatio.map { f($0, 3) } ?? "-", 11)
                )
            }
        }
        line("")
        let nonzero = errorsByStatus.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        line("errors by status: " + (nonzero.isEmpty ? "none" : nonzero.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        line(
            "cache (X-Cache): hit=\(cache.hit) miss=\(cache.miss) stale=\(cache.stale) bypass=\(cache.bypass) hit_ratio="
                + (cache.hitRatio.map { f($0, 3) } ?? "n/a")
        )
        if let baseline {
            line(
                "baseline \(baseline.path): \(f(baseline.throughputRps, 0)) rps closed-loop, p99 \(f(baseline.p99)) ms; ratio main/baseline: "
                    + "throughput \(baseline.ratio.map { f($0, 3) } ?? "n/a"), p99 \(baseline.p99Ratio.map { f($0, 2) } ?? "n/a")"
            )
        }
        for phase in phases {
            if let s = phase.saturation {
                line(
                    "\(phase.name): saturation " + (s.rateRps.map { f($0, 0) + " rps" } ?? "below the first step")
                        + (s.reached ? "" : " (not reached: every step passed)") + " [stop_when \(s.stopWhen.joined(separator: ", "))]"
                )
            }
            if let fault = phase.fault {
                var text = "\(phase.name): errors during \(pct(fault.errorRateDuring)) (\(fault.errorsDuring)/\(fault.requestsDuring)), "
                text += "after \(pct(fault.errorRateAfter)) (\(fault.errorsAfter)/\(fault.requestsAfter)), recovery "
                text += fault.recoveryS.map { f($0, 1) + " s" } ?? "not within the phase"
                for cmd in [fault.before, fault.after].compactMap({ $0 }) where cmd.exitCode != 0 {
                    text += "; command '\(cmd.command)' " + (cmd.timedOut ? "timed out" : "exited \(cmd.exitCode.map(String.init) ?? "?")")
                }
                line(text)
            }
        }
        if server.available {
            var text = "server /metrics: requests counted \(server.requestsCountedByServer.map(String.init) ?? "n/a")"
            text += " vs harness sent \(server.harnessRequestsSent)"
            if let lag = server.refreshLagS { text += ", refresh lag \(f(lag, 3)) s (max \(f(server.refreshLagMaxS ?? lag, 3)))" }
            if let hr = server.serverHitRatio { text += ", server hit ratio \(f(hr, 3))" }
            if !server.jobMeanDurationS.isEmpty {
                text +=
                    ", job mean "
                    + server.jobMeanDurationS.sorted { $0.key < $1.key }.map { "\($0.key)=\(f($0.value, 3))s" }
                    .joined(separator: " ")
            }
            line(text)
            if let memory = server.memory {
                var summary = "memory (MB, from /metrics; growth counted from \(f(memory.fromS, 0)) s)"
                if let s = memory.server {
                    summary += ": server \(f(s.startMb, 1)) → \(f(s.endMb, 1)) (growth \(f(s.growthMb, 1)), max \(f(s.maxMb, 1)))"
                }
                if let w = memory.worker { summary += ", worker \(f(w.startMb, 1)) → \(f(w.endMb, 1)) (growth \(f(w.growthMb, 1)))" }
                line(summary)
                line("      s    server    worker")
                for row in memory.textLines { line(row) }
            }
        } else {
            line("server /metrics: unavailable" + (server.note.map { " (\($0))" } ?? ""))
        }
        if let halfOpen {
            line(
                "half-open connections from \(halfOpen.source): \(halfOpen.target) kept open, \(halfOpen.opened) opened, "
                    + "\(halfOpen.closedByServer) closed by the server, \(halfOpen.refused) refused, \(halfOpen.heldAtEnd) held at the end")
        }
        for warning in warnings { line("warning: \(warning)") }
        line("")
        if thresholds.isEmpty {
            line("thresholds: none")
        } else {
            for t in thresholds {
                let value = t.value.map { f($0, 4) } ?? "no data"
                line("\(t.passed ? "PASS" : "FAIL")  [\(t.scope)] \(t.expr)  (measured \(value))")
            }
        }
        line(passed ? "RESULT: PASSED" : "RESULT: FAILED")
        return out
    }
}
