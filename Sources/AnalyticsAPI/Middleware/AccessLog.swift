import AnalyticsCache
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import StructuredLogging
import Synchronization

/// The access log: one line per request, `request` with `method`, `path`, `route`, `status`,
/// `cache`, `duration_ms` and the request's logger metadata (`request_id`, …), written off the
/// request path. `RequestMiddleware` only appends a small record to an in-process buffer;
/// `AccessLogService` writes the buffered lines in batches, every `interval` or as soon as
/// `batchSize` lines wait, and on graceful shutdown everything left before it returns (after
/// the HTTP server has stopped: it comes before the server in `serve`'s service group).
///
/// With the JSON log handler a batch is rendered as that handler renders a line (`ts` is the
/// moment the request ended, not the moment of the write) and written in a few large writes;
/// with any other handler each line goes through the request's logger when written.
///
/// The buffer is bounded (`capacity` lines): beyond it lines are dropped and counted
/// (`prpm_access_log_dropped_total`) rather than held without limit. Once the service has
/// stopped, lines are written at once (nothing recorded later sits in the buffer unwritten).
public final class AccessLog: Sendable, SizedStructure {
    /// One request as logged.
    struct Entry: Sendable {
        let logger: Logger
        let method: String
        let path: String
        let route: String
        let status: String
        let cache: String
        let durationMs: Double
        /// Wall clock at the end of the request.
        let seconds: Int
        let nanoseconds: Int

        var metadata: Logger.Metadata {
            [
                "method": .string(method), "path": .string(path), "route": .string(route), "status": .string(status),
                "cache": .string(cache), "duration_ms": .stringConvertible(durationMs),
            ]
        }
    }

    private struct State {
        var entries: [Entry] = []
        /// After the service stopped: lines are written when recorded.
        var closed = false
    }

    public let capacity: Int
    public let batchSize: Int
    public let interval: Duration
    private let state = Mutex(State())
    private let droppedLines = Atomic<Int>(0)
    private let droppedCounter = Counter(label: "prpm_access_log_dropped_total")
    private let output: @Sendable ([UInt8]) -> Void
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// - Parameter output: where rendered JSON lines go (standard error, as the JSON handler's).
    public init(
        capacity: Int = 10_000, batchSize: Int = 1_000, interval: Duration = .milliseconds(100),
        output: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.writeToStandardError
    ) {
        self.capacity = max(1, capacity)
        self.batchSize = max(1, min(batchSize, self.capacity))
        self.interval = interval
        self.output = output
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        InProcessSizes.shared.register("access_log_lines", self)
    }

    /// Lines waiting to be written (for `/metrics`).
    public var size: StructureSize { StructureSize(entries: state.withLock { $0.entries.count }) }

    /// Lines dropped because the buffer was full (also `prpm_access_log_dropped_total`).
    public var dropped: Int { droppedLines.load(ordering: .relaxed) }

    /// Logs one request (`logger` carries the request's metadata). Cheap: an append under a lock.
    func record(
        logger: Logger, method: String, path: String, route: String, status: String, cache: String, duration: Duration
    ) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let entry = Entry(
            logger: logger, method: method, path: path, route: route, status: status, cache: cache,
            durationMs: duration.seconds * 1000, seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
        enum Outcome { case buffered, full, dropped, closed }
        let outcome = state.withLock { state -> Outcome in
            if state.closed { return .closed }
            guard state.entries.count < capacity else { return .dropped }
            state.entries.append(entry)
            return state.entries.count == batchSize ? .full : .buffered
        }
        switch outcome {
        case .buffered: break
        case .full: wake.yield()
        case .dropped:
            droppedLines.add(1, ordering: .relaxed)
            droppedCounter.increment()
        case .closed: emit([entry])
        }
    }

    /// Writes the lines waiting now.
    public func flush() {
        // The next buffer is allocated outside the lock (and only when there is something to take).
        let waiting = state.withLock { $0.entries.count }
        guard waiting > 0 else { return }
        var spare: [Entry] = []
        spare.reserveCapacity(min(max(waiting, 64), capacity))
        let taken = state.withLock { state -> [Entry] in
            swap(&state.entries, &spare)
            return spare
        }
        emit(taken)
    }

    /// Writes batches until graceful shutdown (or cancellation), then everything left; from then
    /// on lines are written when recorded. Run once (`AccessLogService`).
    func run() async {
        let (wakes, wake, interval) = (wakes, wake, interval)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                // Ends when the task is cancelled (graceful shutdown).
                for await _ in wakes { self.flush() }
                group.cancelAll()
            }
        }
        let left = state.withLock { state -> [Entry] in
            state.closed = true
            defer { state.entries = [] }
            return state.entries
        }
        emit(left)
    }

    private func emit(_ entries: [Entry]) {
        guard !entries.isEmpty else { return }
        var batch: [UInt8] = []
        batch.reserveCapacity(min(entries.count * 320, 1 << 16))
        for entry in entries {
            if let json = entry.logger.handler as? JSONLogHandler {
                // As `JSONLogHandler.log` renders it, with the time the request ended.
                var metadata = json.metadata
                metadata.merge(entry.metadata, uniquingKeysWith: { $1 })
                let timestamp = JSONLogHandler.timestamp(seconds: time_t(entry.seconds), milliseconds: entry.nanoseconds / 1_000_000)
                batch += JSONLogHandler.render(timestamp: timestamp, level: .info, label: json.label, message: "request", metadata: metadata)
                batch.append(10)
                if batch.count >= 1 << 16 {
                    output(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            } else {
                // Another handler (plain text, tests): through the logger, in order.
                if !batch.isEmpty {
                    output(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                entry.logger.info("request", metadata: entry.metadata)
            }
        }
        if !batch.isEmpty { output(batch) }
    }

}

/// Writes the access log (`AccessLog`) in batches until graceful shutdown, then what is left.
/// In `serve`'s service group before the HTTP application, so it stops after the server (whose
/// last requests it still writes).
public struct AccessLogService: Service, CustomStringConvertible {
    let log: AccessLog

    public init(log: AccessLog) {
        self.log = log
    }

    public var description: String { "AccessLogService" }

    public func run() async {
        await log.run()
    }
}
