import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import StructuredLogging
import Synchronization
import TestSupport
import Testing

@testable import AnalyticsAPI

/// Keeps every log event (level, message, merged metadata) in memory.
struct CapturingLogHandler: LogHandler {
    struct Event: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: Logger.Metadata
    }

    final class Store: Sendable {
        private let events = Mutex<[Event]>([])
        func append(_ event: Event) { events.withLock { $0.append(event) } }
        var all: [Event] { events.withLock { $0 } }
    }

    let store: Store
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append(Event(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}

/// Issue 25 item 4: the access log is buffered per request and written in batches by
/// `AccessLogService`, and nothing recorded before a graceful shutdown is lost.
@Suite("Access log written in batches", .serialized)
struct AccessLogTests {
    /// What the JSON lines went to.
    final class Output: Sendable {
        private let bytes = Mutex<[UInt8]>([])
        private let writes = Atomic<Int>(0)
        func write(_ chunk: [UInt8]) {
            writes.add(1, ordering: .relaxed)
            bytes.withLock { $0 += chunk }
        }
        var lines: [String] { bytes.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init) }
        var writeCount: Int { writes.load(ordering: .relaxed) }
    }

    static func jsonLogger(requestId: String) -> Logger {
        var logger = Logger(label: "prpm.serve") { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = .info
            return handler
        }
        logger[metadataKey: "request_id"] = .string(requestId)
        return logger
    }

    static func object(_ line: String) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
    }

    @Test func linesRecordedBeforeGracefulShutdownAreAllWrittenAfterIt() async throws {
        let output = Output()
        // No timer and no batch before the shutdown: everything is still buffered when it begins.
        let log = AccessLog(capacity: 10_000, batchSize: 10_000, interval: .seconds(3600), output: output.write)
        let count = 2_500
        let recordedBefore = Date()
        try await withServices([AccessLogService(log: log)]) {
            for index in 0..<count {
                log.record(
                    logger: Self.jsonLogger(requestId: "req-\(index)"), method: "GET", path: "/api/v1/analytics/package/\(index)",
                    route: "/api/v1/analytics/package/:id", status: index % 2 == 0 ? "200" : "404", cache: "HIT", duration: .microseconds(1500))
            }
            #expect(log.size.entries == count)
            try await Task.sleep(for: .milliseconds(200))
            #expect(output.lines.isEmpty, "buffered until the shutdown")
        }
        // `withServices` returned: the group has shut down gracefully.
        let lines = output.lines
        #expect(lines.count == count)
        #expect(log.size.entries == 0)
        #expect(output.writeCount < count / 10, "written in batches, not line by line")
        for (index, line) in lines.enumerated() {
            let fields = try Self.object(line)
            #expect(fields["request_id"] == "req-\(index)")
            #expect(fields["path"] == "/api/v1/analytics/package/\(index)")
            #expect(fields["status"] == (index % 2 == 0 ? "200" : "404"))
        }
        // The same line as the JSON handler writes for `logger.info("request", metadata: …)`,
        // with the time the request ended (before the 200 ms wait), not the time of the write.
        let first = try Self.object(try #require(lines.first))
        let ts = try #require(first["ts"])
        let expected = JSONLogHandler.render(
            timestamp: ts, level: .info, label: "prpm.serve", message: "request",
            metadata: [
                "request_id": "req-0", "method": "GET", "path": "/api/v1/analytics/package/0", "route": "/api/v1/analytics/package/:id",
                "status": "200", "cache": "HIT", "duration_ms": .stringConvertible(1.5),
            ])
        #expect(lines.first == String(decoding: expected, as: UTF8.self))
        let written = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(ts)
        #expect(written.timeIntervalSince(recordedBefore) > -0.01 && written.timeIntervalSince(recordedBefore) < 0.15)

        // After the service stopped, a line is written at once.
        log.record(logger: Self.jsonLogger(requestId: "late"), method: "GET", path: "/", route: "/", status: "200", cache: "-", duration: .zero)
        #expect(output.lines.count == count + 1)
        #expect(output.lines.last?.contains(#""request_id":"late""#) == true)
    }

    @Test func otherHandlersGetEveryLineThroughTheLoggerOnShutdown() async throws {
        let store = CapturingLogHandler.Store()
        var logger = Logger(label: "plain") { _ in CapturingLogHandler(store: store) }
        logger[metadataKey: "request_id"] = "r"
        let log = AccessLog(interval: .seconds(3600))
        try await withServices([AccessLogService(log: log)]) {
            for index in 0..<300 {
                log.record(
                    logger: logger, method: "POST", path: "/p/\(index)", route: "/p/:n", status: "201", cache: "-", duration: .milliseconds(index))
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(store.all.isEmpty)
        }
        let events = store.all
        #expect(events.count == 300)
        #expect(events.allSatisfy { $0.level == .info && $0.message == "request" && $0.metadata["request_id"] == "r" })
        #expect(events.map { $0.metadata["path"]?.description } == (0..<300).map { "/p/\($0)" })
        #expect(events.last?.metadata["duration_ms"]?.description == String(299.0))
        #expect(Set(events[0].metadata.keys) == ["request_id", "method", "path", "route", "status", "cache", "duration_ms"])
    }

    @Test func aFullBatchIsWrittenWithoutWaitingForTheTimer() async throws {
        let output = Output()
        let log = AccessLog(capacity: 1_000, batchSize: 100, interval: .seconds(3600), output: output.write)
        try await withServices([AccessLogService(log: log)]) {
            for index in 0..<99 {
                log.record(
                    logger: Self.jsonLogger(requestId: "\(index)"), method: "GET", path: "/", route: "/", status: "200", cache: "-", duration: .zero)
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(output.lines.isEmpty)
            log.record(logger: Self.jsonLogger(requestId: "99"), method: "GET", path: "/", route: "/", status: "200", cache: "-", duration: .zero)
            try await TestEnvironment.eventually("the batch is written", timeout: .seconds(5)) { output.lines.count == 100 }
        }
        #expect(output.lines.count == 100)
    }

    @Test func theTimerWritesWhatWaits() async throws {
        let output = Output()
        let log = AccessLog(interval: .milliseconds(50), output: output.write)
        try await withServices([AccessLogService(log: log)]) {
            log.record(logger: Self.jsonLogger(requestId: "t"), method: "GET", path: "/", route: "/", status: "200", cache: "-", duration: .zero)
            try await TestEnvironment.eventually("the line is written", timeout: .seconds(5)) { output.lines.count == 1 }
        }
    }

    @Test func aFullBufferDropsAndCountsLines() async throws {
        // The metrics system is bootstrapped (by the shared dependencies) before the log's counter is made.
        let before = try await Self.droppedTotal()
        let output = Output()
        let capacity = 50
        let recorded = 80
        let log = AccessLog(capacity: capacity, batchSize: capacity, interval: .seconds(3600), output: output.write)
        // No service runs: nothing is written, the buffer fills.
        for index in 0..<recorded {
            log.record(
                logger: Self.jsonLogger(requestId: "\(index)"), method: "GET", path: "/", route: "/", status: "200", cache: "-", duration: .zero)
        }
        #expect(log.size.entries == capacity)
        #expect(log.dropped == recorded - capacity)
        #expect(try await Self.droppedTotal() == before + recorded - capacity)
        try await withServices([AccessLogService(log: log)]) {}
        // The first lines are kept, the later ones dropped.
        #expect(output.lines.count == capacity)
        #expect(try Self.object(try #require(output.lines.last))["request_id"] == "\(capacity - 1)")
    }

    /// Through the router: the middleware's line carries the request's id and its fields.
    @Test func theMiddlewareRecordsEachRequest() async throws {
        let dependencies = try await makeReplica()
        try await withCleanup({ await dependencies.shutdown() }) { try await Self.requestThroughTheRouter(dependencies) }
    }

    static func requestThroughTheRouter(_ dependencies: AppDependencies) async throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "prpm.serve") { _ in CapturingLogHandler(store: store) }
        let router = await buildRouter(dependencies)
        let app = Application(router: router, logger: logger)
        let requestId = "access-log-\(UUID())"
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .get, headers: [.xRequestId: requestId]) { $0 }
            #expect(response.headers[.xRequestId] == requestId)
        }
        // Written by the service.
        try await withServices([AccessLogService(log: dependencies.accessLog)]) {
            try await TestEnvironment.eventually("the line is written", timeout: .seconds(5)) {
                store.all.contains { $0.metadata["request_id"]?.description == requestId }
            }
        }
        let event = try #require(store.all.first { $0.metadata["request_id"]?.description == requestId })
        #expect(event.message == "request")
        #expect(event.metadata["method"]?.description == "GET")
        #expect(event.metadata["path"]?.description == "/healthz")
        #expect(event.metadata["route"]?.description == "/healthz")
        #expect(event.metadata["status"]?.description == "200")
        #expect(event.metadata["cache"]?.description == "-")
        #expect(Double(event.metadata["duration_ms"]?.description ?? "") != nil)
    }

    /// `prpm_access_log_dropped_total` as `/metrics` shows it (0 before any drop).
    static func droppedTotal() async throws -> Int {
        let text = Mutex("")
        try await withApp { client, _ in
            let body = try await client.get("/metrics").text
            text.withLock { $0 = body }
        }
        let line = text.withLock { $0 }.split(separator: "\n").first { $0.hasPrefix("prpm_access_log_dropped_total ") }
        return line.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? 0
    }
}
