import Foundation
import Testing

@testable import LoadTestCore

@Suite("Report math")
struct ReportMathTests {
    @Test("percentiles from a histogram of known values")
    func percentiles() {
        var stats = LatencyStats()
        for ms in 1...1000 { stats.recordResponse(status: 200, latencyMicros: UInt64(ms) * 1000, cache: .none) }
        let s = stats.summary(seconds: 10)
        // HdrHistogram with 3 significant digits: within 0.1 %.
        #expect(abs(s.latencyMs.p50 - 500) <= 0.5)
        #expect(abs(s.latencyMs.p90 - 900) <= 0.9)
        #expect(abs(s.latencyMs.p99 - 990) <= 1)
        #expect(abs(s.latencyMs.p999 - 999) <= 1)
        #expect(abs(s.latencyMs.max - 1000) <= 1)
        #expect(abs(s.latencyMs.mean - 500.5) <= 0.5)
        #expect(s.throughputRps == 100)
        #expect(s.requests == 1000 && s.errors == 0 && s.errorRate == 0)
    }

    @Test("error rate, errors by status, hit ratio, throughput")
    func counters() {
        var stats = LatencyStats()
        for _ in 0..<90 { stats.recordResponse(status: 200, latencyMicros: 1000, cache: .hit) }
        for _ in 0..<3 { stats.recordResponse(status: 200, latencyMicros: 1000, cache: .miss) }
        for _ in 0..<2 { stats.recordResponse(status: 200, latencyMicros: 1000, cache: .stale) }
        for _ in 0..<1 { stats.recordResponse(status: 200, latencyMicros: 1000, cache: .bypass) }
        for _ in 0..<3 { stats.recordResponse(status: 503, latencyMicros: 2000, cache: .none) }
        stats.recordFailure(.timeout)
        let s = stats.summary(seconds: 4)
        #expect(s.requests == 100 && s.responses == 99 && s.errors == 4)
        #expect(s.errorRate == 0.04)
        #expect(s.errorsByStatus == ["503": 3, "timeout": 1, "connect": 0, "io": 0])
        #expect(s.statusCounts == ["200": 96, "503": 3])
        #expect(s.cache.hit == 90 && s.cache.miss == 3 && s.cache.stale == 2 && s.cache.bypass == 1)
        #expect(s.cache.hitRatio == 90.0 / 96.0)
        #expect(s.throughputRps == 25)
        #expect(LatencyStats().summary(seconds: 1).cache.hitRatio == nil)
    }

    @Test("merging shards and scenarios adds counts and histograms")
    func merge() {
        var a = PhaseRecorder(startNs: 0)
        var b = PhaseRecorder(startNs: 0)
        a.recordResponse(.package, status: 200, latencyMicros: 1000, cache: .hit, now: 50_000_000)
        a.recordResponse(.badge, status: 200, latencyMicros: 3000, cache: .miss, now: 150_000_000)
        b.recordResponse(.package, status: 500, latencyMicros: 2000, cache: .none, now: 250_000_000)
        b.recordFailure(.me, .connect, now: 250_000_000)
        a.merge(b)
        let s = a.summary(seconds: 1)
        #expect(s.requests == 4 && s.errors == 2)
        #expect(s.perScenario?["package"]?.requests == 2)
        #expect(s.perScenario?["package"]?.errors == 1)
        #expect(s.perScenario?["badge"]?.cache.hitRatio == 0)
        #expect(s.perScenario?["me"]?.errorsByStatus["connect"] == 1)
        #expect(a.fineCompletions == [1, 1, 2])
        #expect(a.fineErrors == [0, 0, 2])
    }

    @Test("timeline buckets are handed out once, per second")
    func timeline() {
        var t = TimelineRecorder(runStartNs: 1_000)
        t.record(now: 1_000 + 100, latencyMicros: 500, error: false)
        t.record(now: 1_000 + 1_500_000_000, latencyMicros: 700, error: true)
        t.record(now: 1_000 + 3_200_000_000, latencyMicros: nil, error: true)
        let first = t.take(before: 2)
        #expect(first.map(\.second) == [0, 1])
        #expect(first[0].completions == 1 && first[1].errors == 1)
        #expect(t.take(before: 2).isEmpty)
        let rest = t.take(before: Int.max)
        #expect(rest.map(\.second) == [2, 3])
        #expect(rest[1].errors == 1 && rest[1].histogram.totalCount == 0)
    }

    @Test("fault phase: error windows and recovery time")
    func faultAnalysis() {
        // 5 s in 100 ms buckets, 10 completions each; every request fails between 1.0 s and 2.5 s; `after` ran at 2.0 s.
        let completions = [Int](repeating: 10, count: 50)
        var errors = [Int](repeating: 0, count: 50)
        for i in 10..<25 { errors[i] = 10 }
        let f = FaultAnalysis.analyze(completions: completions, errors: errors, bucketSeconds: 0.1, referenceS: 2.0)
        #expect(f.requestsDuring == 200 && f.errorsDuring == 100 && f.errorRateDuring == 0.5)
        #expect(f.requestsAfter == 300 && f.errorsAfter == 50)
        #expect(f.recoveryS == 0.5 && f.recovered)
        #expect(f.firstErrorS == 1.0 && f.lastErrorS == 2.5)
        // Never recovers within the phase.
        var stuck = errors
        for i in 25..<50 { stuck[i] = 1 }
        let g = FaultAnalysis.analyze(completions: completions, errors: stuck, bucketSeconds: 0.1, referenceS: 2.0)
        #expect(g.recoveryS == nil && !g.recovered)
        // No `after` command: recovery counts from the first error.
        let h = FaultAnalysis.analyze(completions: completions, errors: errors, bucketSeconds: 0.1, referenceS: nil)
        #expect(h.recoveryS == 1.5)
        #expect(h.requestsDuring == 500)
    }

    @Test("Prometheus text parsing and server deltas")
    func prometheus() {
        let before = PromSnapshot(
            parsing: """
                # HELP prpm_http_requests_total Requests.
                # TYPE prpm_http_requests_total counter
                prpm_http_requests_total{route="/api/v1/analytics/package/{id}",method="GET",status="200"} 100
                prpm_http_requests_total{route="/metrics",method="GET",status="200"} 5
                prpm_cache_requests_total{endpoint="package",result="hit"} 10
                prpm_cache_requests_total{endpoint="package",result="miss"} 10
                prpm_worker_refresh_lag_seconds 0.5
                prpm_worker_job_duration_seconds_sum{job="refresh"} 2.0
                prpm_worker_job_duration_seconds_count{job="refresh"} 4
                prpm_worker_job_duration_seconds_sum{job="retention"} 3.0
                prpm_worker_job_duration_seconds_count{job="retention"} 1
                weird_metric{a="x\\"y",b="2"} +Inf
                broken{line 1
                """
        )
        #expect(before.samples.count == 10)
        #expect(before.samples.last?.labels == ["a": "x\"y", "b": "2"])
        #expect(before.samples.last?.value == .infinity)
        let after = PromSnapshot(
            parsing: """
                prpm_http_requests_total{route="/api/v1/analytics/package/{id}",method="GET",status="200"} 1100
                prpm_http_requests_total{route="/api/v1/analytics/package/{id}",method="GET",status="503"} 7
                prpm_http_requests_total{route="/metrics",method="GET",status="200"} 9
                prpm_cache_requests_total{endpoint="package",result="hit"} 910
                prpm_cache_requests_total{endpoint="package",result="miss"} 110
                prpm_worker_refresh_lag_seconds 1.25
                prpm_worker_job_duration_seconds_sum{job="refresh"} 5.0
                prpm_worker_job_duration_seconds_count{job="refresh"} 10
                prpm_worker_job_duration_seconds_sum{job="retention"} 3.0
                prpm_worker_job_duration_seconds_count{job="retention"} 1
                """
        )
        let middle = PromSnapshot(parsing: "prpm_worker_refresh_lag_seconds 4\n")
        let r = ServerReport.from(snapshots: [before, middle, after], sent: 1010, metricsPath: "/metrics")
        #expect(r.available && r.scrapes == 3)
        #expect(r.requestsCountedByServer == 1007)
        #expect(r.requestsByStatus == ["200": 1000, "503": 7])  // /metrics itself excluded
        #expect(r.requestsByRoute == ["/api/v1/analytics/package/{id}": 1007])
        #expect(r.cacheByEndpoint == ["package": ["hit": 900, "miss": 100]])
        #expect(r.serverHitRatio == 0.9)
        #expect(r.refreshLagS == 1.25 && r.refreshLagMaxS == 4)
        #expect(r.jobMeanDurationS["refresh"] == 0.5)  // (5-2)/(10-4)
        #expect(r.jobMeanDurationS["retention"] == 3.0)  // none ran during the run: cumulative mean
        #expect(r.jobRuns == ["refresh": 6, "retention": 0])
        // A counter that went down (server restart) counts from zero for that series.
        let restarted = PromSnapshot(parsing: #"prpm_http_requests_total{route="/healthz",method="GET",status="200"} 40"#)
        let beforeRestart = PromSnapshot(parsing: #"prpm_http_requests_total{route="/healthz",method="GET",status="200"} 900"#)
        let r2 = ServerReport.from(snapshots: [beforeRestart, restarted], sent: 50, metricsPath: "/metrics")
        #expect(r2.requestsCountedByServer == 40)
        #expect(r2.note?.contains("restarted") == true)
        let missing = ServerReport.from(snapshots: [PromSnapshot(parsing: ""), PromSnapshot(parsing: "")], sent: 3, metricsPath: "/metrics")
        #expect(missing.requestsCountedByServer == nil && missing.refreshLagS == nil && missing.jobMeanDurationS.isEmpty)
    }

    @Test("JSON report carries the contract fields; text and HTML render")
    func reportEncoding() throws {
        var recorder = PhaseRecorder(startNs: 0)
        for i in 0..<100 { recorder.recordResponse(.package, status: i < 2 ? 503 : 200, latencyMicros: 1500, cache: .hit, now: 0) }
        recorder.recordFailure(.package, .timeout, now: 0)
        let totals = recorder.summary(seconds: 1)
        let phase = PhaseReport(
            name: "steady", kind: .constant, recorded: true, rate: 100, path: nil, durationS: 1, elapsedS: 1.01, stats: totals, checks: []
        )
        let report = RunReport(
            startedAt: "2026-11-25T00:00:00Z", target: "http://127.0.0.1:8080", profile: "t", mode: "open", connections: 4, threads: 1,
            timeoutS: 5, seed: 1, totals: totals, phases: [phase],
            timeline: [TimelinePoint(t: 0, phase: "steady", rps: 101, p50: 1.5, p99: 1.5, max: 1.5, errors: 3)],
            baseline: BaselineReport(path: "/healthz", durationS: 3, requests: 3000, errors: 0, throughputRps: 1000, p50: 0.2, p99: 0.5),
            server: .unavailable(note: "test", sent: 101), thresholds: [try Threshold(parsing: "errors<1%").evaluate(totals)], warnings: []
        )
        #expect(!report.passed)
        let json = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        for key in [
            "requests", "errors", "throughput_rps", "latency_ms", "errors_by_status", "cache", "per_scenario", "phases", "timeline",
            "baseline", "server", "thresholds", "passed",
        ] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["requests"] as? Int == 101)
        #expect(json["errors"] as? Int == 3)
        let latency = try #require(json["latency_ms"] as? [String: Any])
        #expect(Set(latency.keys).isSuperset(of: ["p50", "p90", "p99", "p999", "max"]))
        #expect((json["errors_by_status"] as? [String: Int]) == ["503": 2, "timeout": 1, "connect": 0, "io": 0])
        let cache = try #require(json["cache"] as? [String: Any])
        #expect(cache["hit_ratio"] as? Double == 1.0)
        // Missing values are explicit nulls, not absent keys.
        let server = try #require(json["server"] as? [String: Any])
        #expect(server["refresh_lag_s"] is NSNull && server["requests_counted_by_server"] is NSNull)
        let baselineJSON = try #require(json["baseline"] as? [String: Any])
        #expect(baselineJSON["ratio"] is NSNull)
        let emptyCache = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CacheSummary(hit: 0, miss: 0, stale: 0, bypass: 0)))
        #expect((emptyCache as? [String: Any])?["hit_ratio"] is NSNull)
        let noData = try JSONSerialization.jsonObject(
            with: JSONEncoder().encode(ThresholdResult(expr: "p99<1ms", scope: "run", value: nil, passed: false)))
        #expect((noData as? [String: Any])?["value"] is NSNull)
        // The report decodes back.
        let decoded = try JSONDecoder().decode(RunReport.self, from: report.jsonData())
        #expect(decoded.requests == 101 && decoded.cache.hitRatio == 1 && decoded.phases.first?.stats.requests == 101)
        let thresholds = try #require(json["thresholds"] as? [[String: Any]])
        #expect(thresholds.first?["expr"] as? String == "errors<1%")
        #expect(thresholds.first?["passed"] as? Bool == false)
        let text = report.renderText()
        #expect(text.contains("FAIL  [run] errors<1%"))
        #expect(text.contains("RESULT: FAILED"))
        let html = report.renderHTML()
        #expect(html.contains("<svg") && html.contains("p99") && html.contains("errors&lt;1%"))
        #expect(!html.contains("<script"))
    }
}
