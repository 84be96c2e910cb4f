import Foundation
import Redis

/// The worker's figures, published by the workers into one Redis hash and rendered as
/// Prometheus text by every API replica's `/metrics` (the worker has no HTTP port). The
/// background rollup folds (any `serve` or `worker`) publish theirs there too.
public enum WorkerMetrics {
    public static let key = RedisKeyspace.workerMetrics

    /// Prometheus text for the hash's fields (`runs:JOB`, `failures:JOB`, `duration_sum:JOB`,
    /// `last_success:JOB`, `step_failures:STEP` and `step_last_success:STEP` of the retention
    /// job's steps, `refresh_lag`, `stream_pending`, `refresh_tasks`,
    /// `refresh_results:computed|fresh`, `fold_rows`, `folds`, `fold_seconds`). A retention step's
    /// failures are `prpm_worker_job_failures_total{job="retention",step="…"}`, beside the
    /// failed runs of each job (`{job="…"}`, no step label).
    public static func render(_ fields: [String: String]) -> String {
        var runs: [String: String] = [:]
        var failures: [String: String] = [:]
        var sums: [String: String] = [:]
        var last: [String: String] = [:]
        var results: [String: String] = [:]
        var stepFailures: [String: String] = [:]
        var stepLast: [String: String] = [:]
        for (field, value) in fields {
            let parts = field.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "runs": runs[parts[1]] = value
            case "failures": failures[parts[1]] = value
            case "duration_sum": sums[parts[1]] = value
            case "last_success": last[parts[1]] = value
            case "refresh_results": results[parts[1]] = value
            case "step_failures": stepFailures[parts[1]] = value
            case "step_last_success": stepLast[parts[1]] = value
            default: break
            }
        }
        var text = ""
        /// One family; its series are labelled `label="key"` of each dictionary, after `prefix`.
        func family(_ name: String, _ type: String, _ series: [(prefix: String, label: String, values: [String: String])]) {
            guard series.contains(where: { !$0.values.isEmpty }) else { return }
            text += "# TYPE \(name) \(type)\n"
            for (prefix, label, values) in series {
                for key in values.keys.sorted() { text += "\(name){\(prefix)\(label)=\"\(key)\"} \(values[key]!)\n" }
            }
        }
        func family(_ name: String, _ type: String, _ values: [String: String], label: String = "job") {
            family(name, type, [(prefix: "", label: label, values: values)])
        }
        if !sums.isEmpty {
            text += "# TYPE prpm_worker_job_duration_seconds summary\n"
            for job in sums.keys.sorted() {
                text += "prpm_worker_job_duration_seconds_sum{job=\"\(job)\"} \(sums[job]!)\n"
                text += "prpm_worker_job_duration_seconds_count{job=\"\(job)\"} \(runs[job] ?? "0")\n"
            }
        }
        family(
            "prpm_worker_job_failures_total", "counter",
            [(prefix: "", label: "job", values: failures), (prefix: "job=\"retention\",", label: "step", values: stepFailures)])
        family("prpm_worker_last_success_timestamp_seconds", "gauge", last)
        family("prpm_worker_retention_step_last_success_seconds", "gauge", stepLast, label: "step")
        family("prpm_worker_refresh_results_total", "counter", results, label: "result")
        if let folds = fields["folds"], let seconds = fields["fold_seconds"] {
            text += "# TYPE prpm_rollup_fold_duration_seconds summary\n"
            text += "prpm_rollup_fold_duration_seconds_sum \(seconds)\nprpm_rollup_fold_duration_seconds_count \(folds)\n"
        }
        for (field, name, type) in [
            ("refresh_lag", "prpm_worker_refresh_lag_seconds", "gauge"), ("stream_pending", "prpm_worker_stream_pending", "gauge"),
            ("refresh_tasks", "prpm_worker_refresh_tasks_total", "counter"), ("fold_rows", "prpm_rollup_fold_rows_total", "counter"),
        ] {
            if let value = fields[field] { text += "# TYPE \(name) \(type)\n\(name) \(value)\n" }
        }
        return text
    }

    /// Reads the hash (nil when Redis does not answer).
    public static func fetch(_ redis: RedisClient, key: String = key) async -> [String: String]? {
        try? await fetchOrThrow(redis, key: key)
    }

    /// The same, with the Redis error (for the circuit breaker).
    public static func fetchOrThrow(_ redis: RedisClient, key: String = key) async throws -> [String: String] {
        fields(try await redis.command("HGETALL", key))
    }

    /// The fields of an `HGETALL` reply.
    public static func fields(_ reply: RedisReply) -> [String: String] {
        let items = reply.array ?? []
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let field = items[index].string, let value = items[index + 1].string { fields[field] = value }
            index += 2
        }
        return fields
    }
}
