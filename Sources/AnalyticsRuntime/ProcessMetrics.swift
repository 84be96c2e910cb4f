import Foundation

/// This process's resource use read from Linux's `/proc/self`, in the names of Prometheus'
/// standard process collector (`process_resident_memory_bytes`, `process_cpu_seconds_total`, …),
/// so dashboards and alerts written for any Prometheus client work unchanged. Read on every
/// scrape (a few small files: microseconds); nil where `/proc` is not there (not Linux).
public struct ProcessMetrics: Sendable, Equatable {
    public var residentMemoryBytes: Int
    public var virtualMemoryBytes: Int
    public var cpuSeconds: Double
    public var openFDs: Int
    public var maxFDs: Int?
    public var threads: Int
    public var startTimeSeconds: Double?

    public init(
        residentMemoryBytes: Int, virtualMemoryBytes: Int, cpuSeconds: Double, openFDs: Int, maxFDs: Int? = nil, threads: Int,
        startTimeSeconds: Double? = nil
    ) {
        self.residentMemoryBytes = residentMemoryBytes
        self.virtualMemoryBytes = virtualMemoryBytes
        self.cpuSeconds = cpuSeconds
        self.openFDs = openFDs
        self.maxFDs = maxFDs
        self.threads = threads
        self.startTimeSeconds = startTimeSeconds
    }

    /// Clock ticks per second of `/proc/*/stat`'s times, and the page size of its `rss`.
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = sysconf(Int32(_SC_PAGESIZE))

    /// The current figures of this process.
    public static func current() -> ProcessMetrics? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        let limits = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8)
        let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8)
        return parse(stat: stat, openFDs: fds, limits: limits, uptime: uptime, now: Date().timeIntervalSince1970)
    }

    /// The figures of a `/proc/PID/stat` line (and of `/proc/PID/limits`, `/proc/uptime` for the
    /// limit and the start time). nil when the line is not one.
    public static func parse(stat: String, openFDs: Int, limits: String?, uptime: String?, now: Double) -> ProcessMetrics? {
        // The command name (field 2) is in parentheses and may hold spaces: fields count from after its last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field N is fields[N - 3].
        func field(_ number: Int) -> Double? { fields.count > number - 3 ? Double(fields[number - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let threads = field(20), let startTicks = field(22), let vsize = field(23),
            let rss = field(24)
        else { return nil }
        var start: Double?
        if let uptime, let seconds = uptime.split(separator: " ").first.flatMap({ Double($0) }) {
            start = now - seconds + startTicks / ticksPerSecond
        }
        return ProcessMetrics(
            residentMemoryBytes: Int(rss) * pageSize, virtualMemoryBytes: Int(vsize), cpuSeconds: (utime + stime) / ticksPerSecond,
            openFDs: openFDs, maxFDs: limits.flatMap(maxOpenFiles), threads: Int(threads), startTimeSeconds: start)
    }

    /// The soft limit of "Max open files" in a `/proc/PID/limits` table.
    static func maxOpenFiles(_ limits: String) -> Int? {
        for line in limits.split(separator: "\n") where line.hasPrefix("Max open files") {
            return line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Int($0) }
        }
        return nil
    }

    /// The figures as (name without `process_`, type, help, value).
    var samples: [(name: String, type: String, help: String, value: String)] {
        var rows: [(name: String, type: String, help: String, value: String)] = [
            ("resident_memory_bytes", "gauge", "Resident memory size in bytes.", String(residentMemoryBytes)),
            ("virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", String(virtualMemoryBytes)),
            ("cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", String(cpuSeconds)),
            ("open_fds", "gauge", "Number of open file descriptors.", String(openFDs)),
            ("threads", "gauge", "Number of OS threads in the process.", String(threads)),
        ]
        if let maxFDs { rows.append(("max_fds", "gauge", "Maximum number of open file descriptors.", String(maxFDs))) }
        if let startTimeSeconds {
            rows.append(("start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", String(Int(startTimeSeconds))))
        }
        return rows
    }

    /// Prometheus text of this process's figures (`process_…`).
    public func prometheusText() -> String { Self.prometheusText(["": self]) }

    /// Prometheus text of several processes' figures, each family once, with names prefixed
    /// by `prefix` and each process's samples labelled `label="<key>"` (no label for the key "").
    public static func prometheusText(_ processes: [String: ProcessMetrics], prefix: String = "", label: String = "consumer") -> String {
        let keys = processes.keys.sorted()
        guard let first = keys.first.flatMap({ processes[$0] }) else { return "" }
        var text = ""
        for (index, family) in first.samples.enumerated() {
            let name = "\(prefix)process_\(family.name)"
            text += "# HELP \(name) \(family.help)\n# TYPE \(name) \(family.type)\n"
            for key in keys {
                let samples = processes[key]!.samples
                guard index < samples.count, samples[index].name == family.name else { continue }
                let labels = key.isEmpty ? "" : "{\(label)=\"\(key)\"}"
                text += "\(name)\(labels) \(samples[index].value)\n"
            }
        }
        return text
    }

    /// A compact form for the Redis hash the workers publish to: `rss vsz cpu fds threads time`.
    public func published(at time: Double) -> String {
        "\(residentMemoryBytes) \(virtualMemoryBytes) \(cpuSeconds) \(openFDs) \(threads) \(time)"
    }

    /// The figures and the time of a `published(at:)` value.
    public static func parsePublished(_ text: String) -> (ProcessMetrics, time: Double)? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, let rss = Int(parts[0]), let vsz = Int(parts[1]), let cpu = Double(parts[2]), let fds = Int(parts[3]),
            let threads = Int(parts[4]), let time = Double(parts[5])
        else { return nil }
        return (ProcessMetrics(residentMemoryBytes: rss, virtualMemoryBytes: vsz, cpuSeconds: cpu, openFDs: fds, threads: threads), time)
    }
}
