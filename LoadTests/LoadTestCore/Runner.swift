import Foundation
import NIOCore

/// Everything a run needs; built by the `prpm-loadtest` command.
public struct RunConfig: Sendable {
    public var target: Target
    public var profile: Profile
    /// A single-route GET for every phase that has no `path` of its own (the mix is ignored).
    public var path: String?
    public var connections: Int
    public var threads: Int
    public var timeoutSeconds: Double
    public var seed: UInt64
    public var fixturesPath: String
    public var jwtSecret: String?
    public var ingestToken: String?
    /// Thresholds from the command line, added to the profile's.
    public var thresholds: [String]
    public var baselinePath: String
    /// Seconds of closed-loop baseline on `baselinePath` at the start; 0 disables it.
    public var baselineSeconds: Double
    /// Prometheus endpoint scraped at start, every `scrapeIntervalSeconds`, and at the end; nil disables scraping.
    public var metricsPath: String?
    public var scrapeIntervalSeconds: Double
    /// Hard cap on requests over the whole run.
    public var maxRequests: Int
    /// Print the live line to stderr each second.
    public var progress: Bool

    public init(
        target: Target, profile: Profile, path: String? = nil, connections: Int = 32, threads: Int = 1, timeoutSeconds: Double = 5,
        seed: UInt64 = 1, fixturesPath: String = ".data/seed-fixtures.json", jwtSecret: String? = nil, ingestToken: String? = nil,
        thresholds: [String] = [], baselinePath: String = "/healthz", baselineSeconds: Double = 3, metricsPath: String? = "/metrics",
        scrapeIntervalSeconds: Double = 5, maxRequests: Int = 20_000_000, progress: Bool = true
    ) {
        self.target = target
        self.profile = profile
        self.path = path
        self.connections = connections
        self.threads = threads
        self.timeoutSeconds = timeoutSeconds
        self.seed = seed
        self.fixturesPath = fixturesPath
        self.jwtSecret = jwtSecret
        self.ingestToken = ingestToken
        self.thresholds = thresholds
        self.baselinePath = baselinePath
        self.baselineSeconds = baselineSeconds
        self.metricsPath = metricsPath
        self.scrapeIntervalSeconds = scrapeIntervalSeconds
        self.maxRequests = maxRequests
        self.progress = progress
    }

    /// Checks limits and every threshold; throws `.config`.
    public func validate() throws(LoadTestError) {
        try profile.validate()
        for expr in thresholds { _ = try Threshold(parsing: expr) }
        if let path, !path.hasPrefix("/") { throw .config("--path must start with /") }
        if !baselinePath.hasPrefix("/") { throw .config("baseline path must start with /") }
        guard (1...4096).contains(connections) else { throw .config("--connections must be 1...4096") }
        guard (1...16).contains(threads) else { throw .config("--threads must be 1...16") }
        guard timeoutSeconds > 0 && timeoutSeconds <= 120 else { throw .config("--timeout must be within (0, 120] s") }
        guard baselineSeconds >= 0 && baselineSeconds <= 60 else { throw .config("--baseline-duration must be within [0, 60] s") }
        guard maxRequests > 0 else { throw .config("--max-requests must be positive") }
        let total = profile.phases.reduce(0) { $0 + $1.plannedSeconds } + baselineSeconds
        guard total <= 4 * 3600 else { throw .config("the run would last \(Int(total)) s; the limit is 4 h") }
    }
}

extension Profile {
    /// `--rate` / `--duration` with a profile: applied to its recorded constant-rate and closed-loop phases.
    public func overriding(rate: Double?, duration: Double?) -> Profile {
        var copy = self
        for i in copy.phases.indices where copy.phases[i].isRecorded {
            let kind = copy.phases[i].kind
            guard kind == .constant || kind == .closed else { continue }
            if let rate { copy.phases[i].rate = rate }
            if let duration { copy.phases[i].duration = duration }
        }
        return copy
    }

    /// A one-phase profile (a `--path` run or the default mix run).
    public static func single(name: String, rate: Double?, duration: Double, mix: [String: Int] = Profile.defaultMix) -> Profile {
        Profile(name: name, mix: mix, phases: [PhaseSpec(name: "main", duration: duration, rate: rate)])
    }
}

/// Collects the timeline, the live line and the /metrics snapshots while phases run.
actor RunMonitor {
    let runStartNs: UInt64
    var marks: [(startNs: UInt64, name: String, rate: String)] = []
    var timeline: [TimelinePoint] = []
    var snapshots: [PromSnapshot] = []
    var nextSecond = 0

    init(runStartNs: UInt64) {
        self.runStartNs = runStartNs
    }

    func mark(startNs: UInt64, name: String, rate: String) {
        marks.append((startNs, name, rate))
    }

    func rate(of phase: String) -> String {
        marks.last(where: { $0.name == phase })?.rate ?? ""
    }

    func phaseName(second: Int) -> String {
        let mid = runStartNs + UInt64(second) * 1_000_000_000 + 500_000_000
        return marks.last(where: { $0.startNs <= mid })?.name ?? marks.first?.name ?? ""
    }

    /// Adds points for seconds `nextSecond ..< upTo` (zeros where no bucket came back).
    func add(_ buckets: [SecondBucket], upTo: Int) -> [TimelinePoint] {
        var bySecond: [Int: SecondBucket] = [:]
        for bucket in buckets { bySecond[bucket.second] = bucket }
        var added: [TimelinePoint] = []
        let last = max(upTo, (buckets.map(\.second).max() ?? -1) + 1)
        while nextSecond < last {
            let second = nextSecond
            nextSecond += 1
            guard let bucket = bySecond[second] else {
                added.append(TimelinePoint(t: second, phase: phaseName(second: second), rps: 0, p50: 0, p99: 0, max: 0, errors: 0))
                continue
            }
            let h = bucket.histogram
            let has = h.totalCount > 0
            func ms(_ v: UInt64) -> Double { (Double(v) / 1000 * 1000).rounded() / 1000 }
            added.append(
                TimelinePoint(
                    t: second, phase: phaseName(second: second), rps: bucket.completions,
                    p50: has ? ms(h.valueAtPercentile(50)) : 0, p99: has ? ms(h.valueAtPercentile(99)) : 0, max: has ? ms(h.max) : 0,
                    errors: bucket.errors
                )
            )
        }
        timeline.append(contentsOf: added)
        return added
    }

    func addSnapshot(_ snapshot: PromSnapshot) {
        snapshots.append(snapshot)
    }
}

/// Runs a profile: baseline, phases (constant, closed, step-up, fault), thresholds, report.
public final class LoadRunner: Sendable {
    public let config: RunConfig
    let log: @Sendable (String) -> Void

    public init(config: RunConfig, log: @escaping @Sendable (String) -> Void) {
        self.config = config
        self.log = log
    }

    public func run() async throws -> RunReport {
        try config.validate()
        let profile = config.profile
        var warnings: [String] = []
        let startedAt = ISO8601DateFormatter().string(from: Date())

        var plan: MixPlan?
        if config.path == nil && profile.phases.contains(where: { $0.path == nil }) {
            let fixtures = try Fixtures.load(path: config.fixturesPath)
            let lifetime = profile.phases.reduce(3600) { $0 + $1.plannedSeconds * 2 }
            plan = try await MixPlan.build(
                profile: profile, fixtures: fixtures, hostHeader: config.target.hostHeader, jwtSecret: config.jwtSecret,
                ingestToken: config.ingestToken, tokenLifetime: lifetime
            )
        }

        let runStartNs = monotonicNanos()
        let engine = try LoadEngine(
            target: config.target, connections: config.connections, threads: config.threads, timeoutSeconds: config.timeoutSeconds,
            runStartNs: runStartNs
        )
        let monitor = RunMonitor(runStartNs: runStartNs)
        do {
            let report = try await run(engine: engine, monitor: monitor, plan: plan, startedAt: startedAt, warnings: &warnings)
            await engine.shutdown()
            return report
        } catch {
            await engine.shutdown()
            throw error
        }
    }

    private func scrape(_ engine: LoadEngine) async -> PromSnapshot? {
        guard let path = config.metricsPath else { return nil }
        guard let response = try? await SimpleHTTP.get(path, target: config.target, group: engine.eventLoopGroup),
            response.status == 200
        else { return nil }
        return PromSnapshot(parsing: response.body, takenAtNs: monotonicNanos())
    }

    private func run(engine: LoadEngine, monitor: RunMonitor, plan: MixPlan?, startedAt: String, warnings: inout [String]) async throws
        -> RunReport
    {
        let profile = config.profile
        let connected = try await engine.connect()
        if connected == 0 {
            throw LoadTestError.runtime("cannot connect to \(config.target) (is the server running?)")
        }
        if connected < config.connections {
            warnings.append("only \(connected) of \(config.connections) connections could be opened at the start")
        }
        if let first = await scrape(engine) { await monitor.addSnapshot(first) }

        let ticker = startTicker(engine: engine, monitor: monitor)
        var halfOpen: HalfOpenClients?
        if let count = profile.halfOpen, count > 0 {
            halfOpen = HalfOpenClients(count: count, source: profile.halfOpenSource ?? "127.0.0.2", port: config.target.port)
            halfOpen?.start()
        }
        var issued = 0
        var phaseReports: [PhaseReport] = []
        var baselineReport: BaselineReport?
        var totals: PhaseRecorder?
        var totalSeconds = 0.0
        var thresholdResults: [ThresholdResult] = []
        var modes = Set<String>()
        /// When the first recorded phase started: memory growth counts from there.
        var countMemoryFromNs: UInt64?

        /// Runs load for `seconds` and returns the recorder, the start time and the elapsed wall time including the drain.
        func load(_ name: String, _ mode: LoadMode, seconds: Double, _ generator: GeneratorSpec, startNs: UInt64? = nil) async throws
            -> (PhaseRecorder, UInt64, Double)
        {
            let start = startNs ?? monotonicNanos() + 2_000_000
            let rateLabel: String
            if case .open(let rate) = mode { rateLabel = "\(Int(rate))/s" } else { rateLabel = "closed" }
            await monitor.mark(startNs: start, name: name, rate: rateLabel)
            let remaining = max(1, config.maxRequests - issued)
            let recorder = try await engine.run(
                mode: mode, startNs: start, durationNs: UInt64(seconds * 1e9), maxRequests: remaining, generator: generator
            )
            issued += recorder.total.requests
            if issued >= config.maxRequests { warnings.append("hit the request cap (--max-requests \(config.maxRequests))") }
            return (recorder, start, Double(monotonicNanos() - start) / 1e9)
        }

        do {
            if config.baselineSeconds > 0 {
                let (recorder, _, _) = try await load(
                    "baseline", .closed, seconds: config.baselineSeconds, .fixed(path: config.baselinePath, scenario: .baseline)
                )
                let s = recorder.total.summary(seconds: config.baselineSeconds)
                baselineReport = BaselineReport(
                    path: config.baselinePath, durationS: config.baselineSeconds, requests: s.requests, errors: s.errors,
                    throughputRps: s.throughputRps, p50: s.latencyMs.p50, p99: s.latencyMs.p99
                )
                if s.errors > 0 { warnings.append("baseline \(config.baselinePath) had \(s.errors) errors") }
            }

            for (index, phase) in profile.phases.enumerated() {
                let generator: GeneratorSpec
                if let path = phase.path ?? config.path {
                    generator = .fixed(path: path, scenario: .path)
                } else if phase.prime == true {
                    generator = .prime(plan!)
                } else {
                    generator = .mix(plan!, seed: config.seed &+ UInt64(index) &* 1_000_003)
                }
                let mode: LoadMode = phase.rate.map { .open(rate: $0) } ?? .closed
                if phase.isRecorded, countMemoryFromNs == nil { countMemoryFromNs = monotonicNanos() }
                var report: PhaseReport
                var recorder: PhaseRecorder
                switch phase.kind {
                case .constant, .closed:
                    let seconds = phase.duration ?? 0
                    let (r, _, elapsed) = try await load(phase.name, mode, seconds: seconds, generator)
                    recorder = r
                    report = PhaseReport(
                        name: phase.name, kind: phase.kind, recorded: phase.isRecorded, rate: phase.rate, path: phase.path ?? config.path,
                        durationS: seconds, elapsedS: rounded(elapsed), stats: r.summary(seconds: seconds), checks: []
                    )
                case .stepup:
                    (recorder, report) = try await runStepUp(phase, generator: generator, load: load)
                case .fault:
                    (recorder, report) = try await runFault(phase, mode: mode, generator: generator, load: load)
                }
                modes.insert(phase.kind == .closed ? "closed" : "open")
                for expr in phase.check ?? [] {
                    let threshold = try Threshold(parsing: expr)
                    let scope = "phase:\(phase.name)"
                    let result: ThresholdResult
                    if threshold.metric.isMemory {
                        throw LoadTestError.config("'\(expr)': memory is checked over the run (thresholds), not per phase")
                    } else if threshold.metric == .recovery {
                        guard let fault = report.fault else { throw LoadTestError.config("'\(expr)': recovery is checked in fault phases only") }
                        result = threshold.evaluate(fault, scope: scope)
                    } else {
                        result = threshold.evaluate(report.stats, scope: scope)
                    }
                    report.checks.append(result)
                    thresholdResults.append(result)
                }
                if phase.isRecorded {
                    if totals == nil { totals = recorder } else { totals!.merge(recorder) }
                    totalSeconds += report.durationS
                }
                phaseReports.append(report)
                logPhase(report)
            }
        } catch {
            ticker.cancel()
            _ = halfOpen?.stop()
            throw error
        }

        ticker.cancel()
        _ = await ticker.result
        let halfOpenReport = halfOpen?.stop()
        let rest = try await engine.takeSeconds(before: Int.max)
        _ = await monitor.add(rest, upTo: rest.isEmpty ? 0 : (rest.map(\.second).max()! + 1))
        if let last = await scrape(engine) { await monitor.addSnapshot(last) }
        let counters = try await engine.counters()

        let snapshots = await monitor.snapshots
        var server: ServerReport
        if config.metricsPath == nil {
            server = .unavailable(note: "scraping disabled", sent: counters.sent)
        } else if snapshots.count < 2 {
            server = .unavailable(note: "GET \(config.metricsPath!) failed or was not 200", sent: counters.sent)
        } else {
            server = ServerReport.from(snapshots: snapshots, sent: counters.sent, metricsPath: config.metricsPath!)
            server.memory = MemoryReport.from(
                snapshots: snapshots, runStartNs: monitor.runStartNs, countFromNs: countMemoryFromNs ?? monitor.runStartNs)
        }

        let totalSummary = (totals ?? PhaseRecorder(startNs: 0)).summary(seconds: totalSeconds)
        if totals == nil { warnings.append("no recorded phase: run totals are empty") }
        var runThresholds: [ThresholdResult] = []
        for expr in profile.thresholds + config.thresholds {
            let threshold = try Threshold(parsing: expr)
            runThresholds.append(threshold.metric.isMemory ? threshold.evaluate(server.memory) : threshold.evaluate(totalSummary, scope: "run"))
        }
        if var baseline = baselineReport {
            if baseline.throughputRps > 0 && totalSummary.requests > 0 {
                baseline.ratio = rounded(totalSummary.throughputRps / baseline.throughputRps, 4)
            }
            if baseline.p99 > 0 && totalSummary.requests > 0 { baseline.p99Ratio = rounded(totalSummary.latencyMs.p99 / baseline.p99, 3) }
            baselineReport = baseline
        }
        let mode = modes.count == 1 ? modes.first! : (modes.isEmpty ? "none" : "mixed")
        return RunReport(
            startedAt: startedAt, target: config.target.description, profile: profile.name, mode: mode, connections: config.connections,
            threads: config.threads, timeoutS: config.timeoutSeconds, seed: config.seed, totals: totalSummary, phases: phaseReports,
            timeline: await monitor.timeline, baseline: baselineReport, server: server, thresholds: runThresholds + thresholdResults,
            warnings: warnings, halfOpen: halfOpenReport
        )
    }

    private func runStepUp(
        _ phase: PhaseSpec, generator: GeneratorSpec,
        load: (String, LoadMode, Double, GeneratorSpec, UInt64?) async throws -> (PhaseRecorder, UInt64, Double)
    ) async throws -> (PhaseRecorder, PhaseReport) {
        let stopWhen = phase.stopWhen ?? ["errors<1%"]
        let rules = try stopWhen.map { expr throws(LoadTestError) in try Threshold(parsing: expr) }
        let stepSeconds = phase.stepDuration!
        var rate = phase.rateStart!
        var steps: [StepReport] = []
        var merged: PhaseRecorder?
        var lastPassing: (rate: Double, throughput: Double)?
        var failedAny = false
        var elapsed = 0.0
        while rate <= phase.maxRate! + 1e-9 {
            let (recorder, _, wall) = try await load("\(phase.name)@\(Int(rate))", .open(rate: rate), stepSeconds, generator, nil)
            elapsed += wall
            if merged == nil { merged = recorder } else { merged!.merge(recorder) }
            let s = recorder.summary(seconds: stepSeconds)
            let results = rules.map { $0.evaluate(s, scope: "step:\(phase.name)@\(Int(rate))") }
            let passed = results.allSatisfy(\.passed)
            steps.append(
                StepReport(
                    rate: rate, requests: s.requests, throughputRps: rounded(s.throughputRps, 1), p50Ms: s.latencyMs.p50,
                    p99Ms: s.latencyMs.p99, errorRate: rounded(s.errorRate, 6), passed: passed, failed: results.filter { !$0.passed }.map(\.expr)
                )
            )
            log(
                "  step \(Int(rate)) rps: throughput \(Int(s.throughputRps)) p99 \(s.latencyMs.p99) ms errors "
                    + String(format: "%.3f%%", s.errorRate * 100) + (passed ? "  ok" : "  ✗ \(results.filter { !$0.passed }.map(\.expr))")
            )
            if !passed {
                failedAny = true
                break
            }
            lastPassing = (rate, s.throughputRps)
            rate += phase.rateStep!
        }
        let seconds = Double(steps.count) * stepSeconds
        let recorder = merged ?? PhaseRecorder(startNs: 0)
        let report = PhaseReport(
            name: phase.name, kind: .stepup, recorded: phase.isRecorded, rate: nil, path: phase.path ?? config.path, durationS: seconds,
            elapsedS: rounded(elapsed), stats: recorder.summary(seconds: seconds), checks: [], steps: steps,
            saturation: Saturation(
                rateRps: lastPassing?.rate, throughputRps: lastPassing.map { rounded($0.throughput, 1) }, reached: failedAny,
                stopWhen: stopWhen
            )
        )
        return (recorder, report)
    }

    private func runFault(
        _ phase: PhaseSpec, mode: LoadMode, generator: GeneratorSpec,
        load: (String, LoadMode, Double, GeneratorSpec, UInt64?) async throws -> (PhaseRecorder, UInt64, Double)
    ) async throws -> (PhaseRecorder, PhaseReport) {
        let duration = phase.duration ?? 0
        let recovery = phase.after != nil ? (phase.recovery ?? 10) : 0
        let total = duration + recovery
        let commandTimeout = phase.commandTimeout ?? 120
        let startNs = monotonicNanos() + 20_000_000
        let name = phase.name
        let before = phase.before, after = phase.after
        let log = self.log
        // Commands run concurrently with the load: `before` at the phase start, `after` at `duration`.
        let commands = Task { () -> (CommandReport?, CommandReport?, UInt64?) in
            var beforeReport: CommandReport?
            var afterReport: CommandReport?
            var afterStartNs: UInt64?
            let now = monotonicNanos()
            if now < startNs { try? await Task.sleep(nanoseconds: startNs - now) }
            if let before {
                log("  \(name): running before: \(before)")
                beforeReport = await ShellCommand.run(before, timeoutSeconds: commandTimeout, phaseStartNs: startNs)
                log("  \(name): before finished: \(beforeReport!.summaryLine)")
            }
            if let after {
                let at = startNs + UInt64(duration * 1e9)
                let now = monotonicNanos()
                if now < at { try? await Task.sleep(nanoseconds: at - now) }
                afterStartNs = monotonicNanos()
                log("  \(name): running after: \(after)")
                afterReport = await ShellCommand.run(after, timeoutSeconds: commandTimeout, phaseStartNs: startNs)
                log("  \(name): after finished: \(afterReport!.summaryLine)")
            }
            return (beforeReport, afterReport, afterStartNs)
        }
        let (recorder, _, elapsed) = try await load(name, mode, total, generator, startNs)
        let (beforeReport, afterReport, afterStartNs) = await commands.value
        var fault = FaultAnalysis.analyze(
            completions: recorder.fineCompletions, errors: recorder.fineErrors, bucketSeconds: 0.1,
            referenceS: afterStartNs.map { Double($0 - startNs) / 1e9 }
        )
        fault.before = beforeReport
        fault.after = afterReport
        let report = PhaseReport(
            name: name, kind: .fault, recorded: phase.isRecorded, rate: phase.rate, path: phase.path ?? config.path, durationS: total,
            elapsedS: rounded(elapsed), stats: recorder.summary(seconds: total), checks: [], fault: fault
        )
        return (recorder, report)
    }

    private func startTicker(engine: LoadEngine, monitor: RunMonitor) -> Task<Void, Never> {
        let config = self.config
        let log = self.log
        let runStartNs = engine.runStartNs
        return Task {
            var second = 1
            var lastScrapeNs = monotonicNanos()
            while !Task.isCancelled {
                let wake = runStartNs + UInt64(second) * 1_000_000_000 + 20_000_000
                let now = monotonicNanos()
                if wake > now {
                    do { try await Task.sleep(nanoseconds: wake - now) } catch { return }
                }
                guard let buckets = try? await engine.takeSeconds(before: second) else { return }
                let points = await monitor.add(buckets, upTo: second)
                if config.progress, let point = points.last {
                    let name = point.phase
                    let rate = await monitor.rate(of: name)
                    let counters = try? await engine.counters()
                    log(
                        String(
                            format: "[%4ds] %-16@ %8@  rps %6d  p50 %8.2fms  p99 %8.2fms  errors %d  conn %d/%d",
                            point.t + 1, name as NSString, rate as NSString, point.rps, point.p50, point.p99, point.errors,
                            counters?.connected ?? 0, config.connections
                        )
                    )
                }
                if config.metricsPath != nil, config.scrapeIntervalSeconds > 0,
                    monotonicNanos() - lastScrapeNs >= UInt64(config.scrapeIntervalSeconds * 1e9)
                {
                    lastScrapeNs = monotonicNanos()
                    Task {
                        if let snapshot = await self.scrape(engine) { await monitor.addSnapshot(snapshot) }
                    }
                }
                second += 1
            }
        }
    }

    private func logPhase(_ report: PhaseReport) {
        let s = report.stats
        log(
            "phase \(report.name) done: \(s.requests) requests, \(Int(s.throughputRps)) rps, p50 \(s.latencyMs.p50) ms, "
                + "p99 \(s.latencyMs.p99) ms, errors \(s.errors)"
        )
    }
}

/// Error windows and recovery time of a fault phase, from 100 ms completion/error buckets.
public enum FaultAnalysis {
    /// `referenceS`: offset of the `after` command from the phase start (nil: none; recovery then counts from the first error).
    public static func analyze(completions: [Int], errors: [Int], bucketSeconds: Double, referenceS: Double?) -> FaultReport {
        let n = completions.count
        let split = referenceS.map { min(n, Int(($0 / bucketSeconds).rounded(.down))) } ?? n
        let requestsDuring = completions.prefix(split).reduce(0, +)
        let errorsDuring = errors.prefix(split).reduce(0, +)
        let requestsAfter = completions.dropFirst(split).reduce(0, +)
        let errorsAfter = errors.dropFirst(split).reduce(0, +)
        let firstError = errors.firstIndex(where: { $0 > 0 })
        let lastError = errors.lastIndex(where: { $0 > 0 })
        let window = max(1, Int((1.0 / bucketSeconds).rounded()))
        var recovery: Double?
        let reference: Double? = referenceS ?? firstError.map { Double($0) * bucketSeconds }
        if let reference {
            let startIndex = max(0, Int((reference / bucketSeconds).rounded(.down)))
            var k = startIndex
            while k + window <= n {
                let c = completions[k..<(k + window)].reduce(0, +)
                let e = errors[k..<(k + window)].reduce(0, +)
                if c > 0 && e == 0 {
                    recovery = max(0, Double(k) * bucketSeconds - reference)
                    break
                }
                k += 1
            }
        } else {
            recovery = 0  // no after command and no error at all
        }
        return FaultReport(
            before: nil, after: nil, requestsDuring: requestsDuring, errorsDuring: errorsDuring,
            errorRateDuring: requestsDuring > 0 ? Double(errorsDuring) / Double(requestsDuring) : 0, requestsAfter: requestsAfter,
            errorsAfter: errorsAfter, errorRateAfter: requestsAfter > 0 ? Double(errorsAfter) / Double(requestsAfter) : 0,
            firstErrorS: firstError.map { rounded(Double($0) * bucketSeconds, 1) },
            lastErrorS: lastError.map { rounded(Double($0 + 1) * bucketSeconds, 1) },
            recoveryS: recovery.map { rounded($0, 1) }, recovered: recovery != nil
        )
    }
}

func rounded(_ value: Double, _ digits: Int = 3) -> Double {
    let scale = pow(10.0, Double(digits))
    return (value * scale).rounded() / scale
}
