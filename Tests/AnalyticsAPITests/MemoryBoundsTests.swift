import Analytics
import AnalyticsCache
import AnalyticsRuntime
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 29: what the process keeps per request stays bounded, and `/metrics` shows it.
@Suite("Memory bounds", .serialized)
struct MemoryBoundsTests {
    /// `/metrics` as name{labels} → value.
    static func metrics(_ client: any TestClientProtocol) async throws -> [String: Double] {
        let page = try await client.get("/metrics")
        #expect(page.status == .ok)
        var values: [String: Double] = [:]
        for line in page.text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }

    static func entries(_ metrics: [String: Double], _ structure: String) -> Int {
        Int(metrics["prpm_inprocess_entries{structure=\"\(structure)\"}"] ?? 0)
    }

    /// Each new answer of a package drew its badges again and kept the old drawings (keyed by the
    /// answer's ETag) for 10 minutes: under the full mix that was the server's steady growth.
    /// Now a package's badge variant is kept once, whatever the number of answers it was drawn from.
    @Test func badgeDrawingsStayOnePerVariantWhateverTheAnswers() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let package = try await f.package("memory-badge")
            let user = try await f.user("memory-badger")
            let before = try await Self.metrics(client)
            var etags: Set<String> = []
            for round in 1...5 {
                let event = #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":1,"durationMs":\#(round)}"#
                #expect(
                    try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken)).status
                        == .created)
                let svg = try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg")
                #expect(svg.status == .ok)
                #expect(svg.text.contains("\(round) time"))
                etags.insert(try #require(svg.headers[.eTag]))
                _ = try await client.get("/api/v1/analytics/package/\(package.name)/badge/users.json")
            }
            #expect(etags.count == 5)  // five answers, five drawings
            let after = try await Self.metrics(client)
            #expect(Self.entries(after, "badge_renders") - Self.entries(before, "badge_renders") == 2)
            #expect(Self.entries(after, "badge_figures") - Self.entries(before, "badge_figures") == 1)
            // Nothing started for these requests is left running: no flights, no deadline timers.
            #expect(Self.entries(after, "single_flight_reads") == 0)
            #expect(Self.entries(after, "timers") == 0)
        }
    }

    /// Issue 27 item 2 (labels): a label over 256 characters is refused and nothing is drawn or kept.
    @Test func overlongBadgeLabelsAreRefusedAndKeepNothing() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("memory-label")
            let before = Self.entries(try await Self.metrics(client), "badge_renders")
            let longest = String(repeating: "x", count: 256)
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg?label=\(longest)").status == .ok)
            for length in [257, 8192] {
                let refused = try await client.get(
                    "/api/v1/analytics/package/\(package.id)/badge/runs.json?label=\(String(repeating: "y", count: length))")
                #expect(refused.status == .badRequest)
                #expect(refused.object["message"] as? String == "label too long")
            }
            #expect(Self.entries(try await Self.metrics(client), "badge_renders") == before + 1)
        }
    }

    @Test func metricsShowTheProcessAndItsStructures() async throws {
        try await withApp { client, _ in
            let metrics = try await Self.metrics(client)
            let rss = try #require(metrics["process_resident_memory_bytes"])
            #expect(rss > 1_000_000)
            #expect(try #require(metrics["process_virtual_memory_bytes"]) >= rss)
            #expect(try #require(metrics["process_open_fds"]) > 0)
            #expect(try #require(metrics["process_threads"]) >= 1)
            #expect(try #require(metrics["process_cpu_seconds_total"]) > 0)
            for structure in ["near_cache", "single_flight_reads", "single_flight_refreshes", "lost_write_marks", "hot_read_counts", "timers"] {
                #expect(metrics["prpm_inprocess_entries{structure=\"\(structure)\"}"] != nil, "\(structure)")
            }
            #expect(metrics["prpm_inprocess_bytes{structure=\"near_cache\"}"] != nil)
        }
    }

    /// The worker has no port: its figures reach `/metrics` through Redis, labelled by consumer.
    @Test func workerProcessFiguresAreRenderedWhileFresh() async throws {
        try await withApp { client, deps in
            let consumer = "memory-test-\(UUID().uuidString.prefix(8))"
            await WorkerProcesses.publish(consumer: consumer, redis: deps.redis)
            let metrics = try await Self.metrics(client)
            #expect(try #require(metrics["prpm_worker_process_resident_memory_bytes{consumer=\"\(consumer)\"}"]) > 1_000_000)
            // A worker silent for over a minute is not shown; one gone for over an hour is removed.
            let old = "memory-test-old-\(UUID().uuidString.prefix(8))"
            await WorkerProcesses.publish(consumer: old, redis: deps.redis, now: Date().addingTimeInterval(-7200))
            #expect(try await Self.metrics(client)["prpm_worker_process_resident_memory_bytes{consumer=\"\(old)\"}"] == nil)
            #expect(try await deps.redis.command("HEXISTS", RedisKeyspace.workerProcesses, old).int == 0)
            _ = try await deps.redis.command("HDEL", RedisKeyspace.workerProcesses, consumer)
        }
    }
}

@Suite("Process metrics")
struct ProcessMetricsTests {
    /// A `/proc/PID/stat` line whose command name holds spaces and a parenthesis.
    @Test func parsesAProcStatLine() throws {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = sysconf(Int32(_SC_PAGESIZE))
        // Fields 3… : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
        // priority nice num_threads itrealvalue starttime vsize rss …
        let stat =
            "4242 (prpm (serve) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 \(Int(3 * ticks)) \(Int(ticks / 2)) 0 0 20 0 21 0 \(Int(10 * ticks)) 123456789 2500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1048576              1048576              files\n"
        let metrics = try #require(ProcessMetrics.parse(stat: stat, openFDs: 37, limits: limits, uptime: "100.00 150.00", now: 1_000_000))
        #expect(metrics.residentMemoryBytes == 2500 * page)
        #expect(metrics.virtualMemoryBytes == 123_456_789)
        #expect(abs(metrics.cpuSeconds - 3.5) < 0.02)
        #expect(metrics.threads == 21)
        #expect(metrics.openFDs == 37)
        #expect(metrics.maxFDs == 1_048_576)
        #expect(abs(try #require(metrics.startTimeSeconds) - (1_000_000 - 100 + 10)) < 0.1)
        #expect(ProcessMetrics.parse(stat: "garbage", openFDs: 0, limits: nil, uptime: nil, now: 0) == nil)
        let text = metrics.prometheusText()
        #expect(text.contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.5"))
        #expect(text.contains("process_resident_memory_bytes \(2500 * page)\n"))
    }

    /// Several workers: each family is declared once, each worker's sample labelled.
    @Test func rendersSeveralProcessesWithOneDeclarationPerFamily() throws {
        let one = ProcessMetrics(residentMemoryBytes: 1, virtualMemoryBytes: 2, cpuSeconds: 3, openFDs: 4, threads: 5)
        let two = ProcessMetrics(residentMemoryBytes: 10, virtualMemoryBytes: 20, cpuSeconds: 30, openFDs: 40, threads: 50)
        let text = ProcessMetrics.prometheusText(["b": two, "a": one], prefix: "prpm_worker_")
        #expect(text.components(separatedBy: "# TYPE prpm_worker_process_resident_memory_bytes gauge").count == 2)
        #expect(
            text.contains(
                "prpm_worker_process_resident_memory_bytes{consumer=\"a\"} 1\nprpm_worker_process_resident_memory_bytes{consumer=\"b\"} 10\n"))
        let (parsed, time) = try #require(ProcessMetrics.parsePublished(two.published(at: 99.5)))
        #expect(parsed == two)
        #expect(time == 99.5)
    }
}
