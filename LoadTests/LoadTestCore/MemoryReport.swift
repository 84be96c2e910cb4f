import Foundation
import NullableCoding

/// The resident memory of the server and of the worker over a run, from the `/metrics`
/// scrapes: the server's `process_resident_memory_bytes` and the largest of the workers'
/// `prpm_worker_process_resident_memory_bytes{consumer}`. Growth is counted from the first
/// scrape after the unrecorded phases (the warm-up) to the last one, so that a soak run tells a
/// process that settles from one that keeps what it is given (`server:rss_growth<10MB`).
public struct MemoryReport: Codable, Sendable, Equatable {
    public struct Sample: Codable, Sendable, Equatable {
        /// Seconds since the run started.
        public var tS: Double
        @Nullable public var serverMb: Double?
        @Nullable public var workerMb: Double?

        enum CodingKeys: String, CodingKey { case tS = "t_s", serverMb = "server_mb", workerMb = "worker_mb" }
    }

    /// One process's figures: at the start of the counted span, at its end, the largest, and the growth.
    public struct Span: Codable, Sendable, Equatable {
        public var startMb: Double
        public var endMb: Double
        public var maxMb: Double
        public var growthMb: Double

        enum CodingKeys: String, CodingKey { case startMb = "start_mb", endMb = "end_mb", maxMb = "max_mb", growthMb = "growth_mb" }
    }

    /// Seconds since the run started from which growth is counted (the end of the warm-up).
    public var fromS: Double
    public var samples: [Sample]
    @Nullable public var server: Span?
    @Nullable public var worker: Span?

    enum CodingKeys: String, CodingKey { case fromS = "from_s", samples, server, worker }

    static let serverMetric = "process_resident_memory_bytes"
    static let workerMetric = "prpm_worker_process_resident_memory_bytes"

    /// nil when no scrape had either figure.
    public static func from(snapshots: [PromSnapshot], runStartNs: UInt64, countFromNs: UInt64) -> MemoryReport? {
        func mb(_ bytes: Double?) -> Double? { bytes.map { rounded($0 / 1_048_576, 2) } }
        let samples = snapshots.map { snapshot in
            let workers = snapshot.samples.filter { $0.name == workerMetric }.map(\.value)
            return Sample(
                tS: rounded(Double(snapshot.takenAtNs &- runStartNs) / 1e9, 1), serverMb: mb(snapshot.sum(serverMetric)),
                workerMb: mb(workers.max()))
        }
        guard samples.contains(where: { $0.serverMb != nil || $0.workerMb != nil }) else { return nil }
        let fromS = rounded(Double(countFromNs &- runStartNs) / 1e9, 1)
        let counted = samples.filter { $0.tS >= fromS }
        func span(_ value: (Sample) -> Double?) -> Span? {
            let values = counted.compactMap(value)
            guard let first = values.first, let last = values.last else { return nil }
            return Span(startMb: first, endMb: last, maxMb: values.max()!, growthMb: rounded(last - first, 2))
        }
        return MemoryReport(fromS: fromS, samples: samples, server: span(\.serverMb), worker: span(\.workerMb))
    }

    /// About one line a minute (every sample of a shorter run): seconds, server MB, worker MB.
    public var textLines: [String] {
        guard let last = samples.last else { return [] }
        let step = last.tS > 600 ? 60.0 : last.tS > 120 ? 15 : 0
        var lines: [String] = []
        var next = 0.0
        for (index, sample) in samples.enumerated() where sample.tS >= next || index == samples.count - 1 {
            let server = sample.serverMb.map { String(format: "%8.1f", $0) } ?? "       -"
            let worker = sample.workerMb.map { String(format: "%8.1f", $0) } ?? "       -"
            lines.append(String(format: "%7.0f", sample.tS) + "  \(server)  \(worker)" + (sample.tS >= fromS ? "" : "   (warm-up)"))
            next = sample.tS + step
        }
        return lines
    }
}
