import Testing

@testable import LoadTestCore

@Suite("Threshold expressions")
struct ThresholdTests {
    @Test(
        "valid expressions and units",
        arguments: [
            ("p99<10ms", Threshold.Metric.p99, Threshold.Op.lt, 10.0),
            ("p50<=2ms", .p50, .le, 2),
            ("p90 < 500us", .p90, .lt, 0.5),
            ("p99<750µs", .p99, .lt, 0.75),
            ("max<1.5s", .max, .lt, 1500),
            ("p999<20", .p999, .lt, 20),
            ("p99.9<=30ms", .p999, .le, 30),
            ("errors<0.1%", .errors, .lt, 0.001),
            ("errors<=0.001", .errors, .le, 0.001),
            ("hit_ratio>0.95", .hitRatio, .gt, 0.95),
            ("hit_ratio>=95%", .hitRatio, .ge, 0.95),
            ("throughput>1000", .throughput, .gt, 1000),
            ("throughput>=1000rps", .throughput, .ge, 1000),
            ("recovery<1s", .recovery, .lt, 1000),
        ]
    )
    func valid(text: String, metric: Threshold.Metric, op: Threshold.Op, bound: Double) throws {
        let t = try Threshold(parsing: text)
        #expect(t.metric == metric)
        #expect(t.op == op)
        #expect(abs(t.bound - bound) < 1e-12)
        #expect(t.scenario == nil)
        #expect(t.expression == text)
    }

    @Test("recovery counts from the end of the after command")
    func recovery() throws {
        let t = try Threshold(parsing: "recovery<1s")
        func fault(recovery: Double?, afterTook: Double?) -> FaultReport {
            var report = FaultAnalysis.analyze(completions: [1], errors: [0], bucketSeconds: 0.1, referenceS: nil)
            report.recoveryS = recovery
            report.after = afterTook.map {
                CommandReport(command: "start", exitCode: 0, startedAtS: 5, durationS: $0, timedOut: false, outputTail: "")
            }
            return report
        }
        // Back 2.4 s after a restart command that took 1.9 s: 500 ms once the service was up.
        let quick = t.evaluate(fault(recovery: 2.4, afterTook: 1.9), scope: "phase:x")
        #expect(quick.passed && abs((quick.value ?? 0) - 500) < 1e-6)
        #expect(!t.evaluate(fault(recovery: 3.5, afterTook: 1.9), scope: "phase:x").passed)
        #expect(!t.evaluate(fault(recovery: nil, afterTook: 1.9), scope: "phase:x").passed)
        #expect(!t.evaluate(fault(recovery: 0.2, afterTook: nil), scope: "phase:x").passed)
        // Not a property of ordinary statistics.
        #expect(t.value(in: summary(p99: 1, errors: 0, requests: 10, hits: 1, misses: 0, seconds: 1)) == nil)
    }

    @Test("scenario scope")
    func scoped() throws {
        let t = try Threshold(parsing: "badge:p99<5ms")
        #expect(t.scenario == "badge" && t.metric == .p99 && t.bound == 5)
    }

    @Test(
        "invalid expressions are rejected",
        arguments: [
            "", "p99", "p99<", "p99<abc", "p98<10ms", "p99=10ms", "p99==10ms", "errors<5ms", "p99<5%", "hit_ratio>1.5",
            "hit_ratio>150%", "throughput>5ms", "nosuch:p99<1ms", "p99<-1ms", "<10ms", "p99<10 parsecs",
            "rss_growth<10MB", "server:p99<5ms", "badge:rss_growth<1MB", "server:rss_growth<10ms", "worker:rss_max<3 furlongs",
        ]
    )
    func invalid(text: String) {
        #expect(throws: LoadTestError.self) { try Threshold(parsing: text) }
    }

    /// Issue 29's soak thresholds: a process's memory over the recorded phases.
    @Test("memory of a process")
    func memory() throws {
        let server = try Threshold(parsing: "server:rss_growth<10MB")
        #expect(server.scenario == "server" && server.metric == .rssGrowth && server.bound == 10)
        #expect(try Threshold(parsing: "worker:rss_max<=512KB").bound == 0.5)
        #expect(try Threshold(parsing: "worker:rss_max<1GB").bound == 1024)
        func snapshot(_ seconds: Double, server: Double, worker: Double?) -> PromSnapshot {
            var text = "process_resident_memory_bytes \(server * 1_048_576)\n"
            if let worker {
                text += "prpm_worker_process_resident_memory_bytes{consumer=\"a\"} \(worker * 1_048_576)\n"
                text += "prpm_worker_process_resident_memory_bytes{consumer=\"b\"} \(worker / 2 * 1_048_576)\n"
            }
            return PromSnapshot(parsing: text, takenAtNs: UInt64(seconds * 1e9))
        }
        // Warm-up until 120 s: the growth counts from the first scrape after it.
        let memory = try #require(
            MemoryReport.from(
                snapshots: [
                    snapshot(0, server: 40, worker: nil), snapshot(60, server: 80, worker: 30), snapshot(125, server: 100, worker: 40),
                    snapshot(600, server: 112, worker: 41), snapshot(1920, server: 108, worker: 43),
                ], runStartNs: 0, countFromNs: 120_000_000_000))
        #expect(memory.fromS == 120)
        #expect(memory.server == MemoryReport.Span(startMb: 100, endMb: 108, maxMb: 112, growthMb: 8))
        #expect(memory.worker == MemoryReport.Span(startMb: 40, endMb: 43, maxMb: 43, growthMb: 3))
        #expect(memory.samples.first?.workerMb == nil)
        #expect(server.evaluate(memory).passed)
        #expect(server.evaluate(memory).value == 8)
        #expect(!(try Threshold(parsing: "server:rss_growth<5MB")).evaluate(memory).passed)
        #expect(try Threshold(parsing: "worker:rss_growth<5MB").evaluate(memory).passed)
        #expect(!(try Threshold(parsing: "worker:rss_max<40MB")).evaluate(memory).passed)
        // Without figures a memory threshold fails.
        #expect(!server.evaluate(nil).passed)
        #expect(MemoryReport.from(snapshots: [PromSnapshot(parsing: "x 1\n")], runStartNs: 0, countFromNs: 0) == nil)
        #expect(memory.textLines.count == memory.samples.count)
    }

    private func summary(p99: Double, errors: Int, requests: Int, hits: Int, misses: Int, seconds: Double) -> StatsSummary {
        var stats = LatencyStats()
        for i in 0..<requests {
            let status = i < errors ? 500 : 200
            stats.recordResponse(status: status, latencyMicros: UInt64(p99 * 1000), cache: i < hits ? .hit : (i < hits + misses ? .miss : .none))
        }
        return stats.summary(seconds: seconds)
    }

    @Test("evaluation: pass, fail, no data")
    func evaluation() throws {
        let s = summary(p99: 8, errors: 1, requests: 1000, hits: 900, misses: 100, seconds: 2)
        #expect(try Threshold(parsing: "p99<10ms").evaluate(s).passed)
        #expect(!(try Threshold(parsing: "p99<8ms").evaluate(s).passed))
        #expect(try Threshold(parsing: "p99<=8.01ms").evaluate(s).passed)
        #expect(try Threshold(parsing: "errors<0.2%").evaluate(s).passed)
        #expect(!(try Threshold(parsing: "errors<0.1%").evaluate(s).passed))
        #expect(try Threshold(parsing: "hit_ratio>=0.9").evaluate(s).passed)
        #expect(!(try Threshold(parsing: "hit_ratio>0.9").evaluate(s).passed))
        #expect(try Threshold(parsing: "throughput>=500").evaluate(s).passed)
        #expect(!(try Threshold(parsing: "throughput>500").evaluate(s).passed))
        let empty = LatencyStats().summary(seconds: 1)
        let noData = try Threshold(parsing: "p99<10ms").evaluate(empty)
        #expect(!noData.passed && noData.value == nil)
        #expect(!(try Threshold(parsing: "hit_ratio>0.5").evaluate(s.withoutCache()).passed))
        // Scoped to a scenario that did not run: no data.
        #expect(!(try Threshold(parsing: "me:p99<10ms").evaluate(s).passed))
    }
}

extension StatsSummary {
    func withoutCache() -> StatsSummary {
        var copy = self
        copy.cache = CacheSummary(hit: 0, miss: 0, stale: 0, bypass: 0)
        return copy
    }
}

@Suite struct HostileThresholdTests {
    /// Issue 27 item 11: `normal:` is the mix without the hostile traffic; `server_errors`
    /// counts only what a server must never answer (5xx, transport failures).
    @Test func normalScopeAndServerErrors() throws {
        var recorder = PhaseRecorder(startNs: 0)
        for _ in 0..<98 { recorder.recordResponse(.package, status: 200, latencyMicros: 1_000, cache: .hit, now: 1) }
        for _ in 0..<2 { recorder.recordResponse(.package, status: 503, latencyMicros: 1_000, cache: .none, now: 1) }
        for _ in 0..<50 { recorder.recordResponse(.hostile, status: 404, latencyMicros: 90_000, cache: .none, now: 1) }
        for _ in 0..<50 { recorder.recordResponse(.hostile, status: 429, latencyMicros: 90_000, cache: .none, now: 1) }
        let summary = recorder.summary(seconds: 1)
        let normal = try #require(summary.perScenario?["normal"])
        #expect(normal.requests == 100)
        #expect(try Threshold(parsing: "normal:p99<25ms").evaluate(summary).passed)
        #expect(try !Threshold(parsing: "p99<25ms").evaluate(summary).passed)
        #expect(try Threshold(parsing: "normal:errors<=2%").evaluate(summary).passed)
        #expect(try Threshold(parsing: "hostile:server_errors<=0%").evaluate(summary).passed)
        #expect(try Threshold(parsing: "hostile:server_errors<=0%").evaluate(summary).value == 0)
        #expect(try Threshold(parsing: "normal:server_errors<=0%").evaluate(summary).value == 0.02)
        #expect(throws: LoadTestError.self) { try Threshold(parsing: "abnormal:p99<1ms") }
    }
}
