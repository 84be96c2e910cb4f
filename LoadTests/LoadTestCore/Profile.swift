import Foundation

/// A load profile (`LoadTests/profiles/*.json`).
public struct Profile: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    /// Scenario weights: package, badge, me, org, feedback, ingest. Zero or missing = not run.
    public var mix: [String: Int]
    /// `days` query values picked uniformly for package/me/org reads.
    public var days: [Int]
    /// Zipf exponent of the package popularity.
    public var zipfS: Double
    public var connections: Int?
    /// Per-request timeout, seconds.
    public var timeout: Double?
    public var seed: UInt64?
    /// Events per `POST /usage` batch.
    public var ingestBatch: Int?
    /// Seconds of the closed-loop `/healthz` baseline measured at the start (0 = none).
    public var baseline: Double?
    public var phases: [PhaseSpec]
    /// Run-wide thresholds (on all recorded phases).
    public var thresholds: [String]
    /// Addresses the `hostile` scenario claims in `X-Forwarded-For` (half IPv4, half IPv6 /64s):
    /// strangers behind a trusted proxy, as the server judges them (`TRUSTED_PROXIES=127.0.0.1`).
    public var hostileClients: Int?
    /// Connections kept half-open (a request head never finished) from `half_open_source`
    /// for the whole run, reopened when the server closes them.
    public var halfOpen: Int?
    public var halfOpenSource: String?

    enum CodingKeys: String, CodingKey {
        case name, description, mix, days, zipfS = "zipf_s", connections, timeout, seed, ingestBatch = "ingest_batch",
            baseline, phases, thresholds, hostileClients = "hostile_clients", halfOpen = "half_open", halfOpenSource = "half_open_source"
    }

    public static let defaultMix: [String: Int] = ["package": 60, "badge": 15, "me": 10, "org": 5, "feedback": 5, "ingest": 5]

    public init(
        name: String, description: String? = nil, mix: [String: Int] = Profile.defaultMix, days: [Int] = [7, 30, 90],
        zipfS: Double = 1.0, connections: Int? = nil, timeout: Double? = nil, seed: UInt64? = nil, ingestBatch: Int? = nil,
        baseline: Double? = nil, phases: [PhaseSpec], thresholds: [String] = []
    ) {
        self.name = name
        self.description = description
        self.mix = mix
        self.days = days
        self.zipfS = zipfS
        self.connections = connections
        self.timeout = timeout
        self.seed = seed
        self.ingestBatch = ingestBatch
        self.baseline = baseline
        self.phases = phases
        self.thresholds = thresholds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        mix = try c.decodeIfPresent([String: Int].self, forKey: .mix) ?? Profile.defaultMix
        days = try c.decodeIfPresent([Int].self, forKey: .days) ?? [7, 30, 90]
        zipfS = try c.decodeIfPresent(Double.self, forKey: .zipfS) ?? 1.0
        connections = try c.decodeIfPresent(Int.self, forKey: .connections)
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        ingestBatch = try c.decodeIfPresent(Int.self, forKey: .ingestBatch)
        baseline = try c.decodeIfPresent(Double.self, forKey: .baseline)
        phases = try c.decode([PhaseSpec].self, forKey: .phases)
        thresholds = try c.decodeIfPresent([String].self, forKey: .thresholds) ?? []
        hostileClients = try c.decodeIfPresent(Int.self, forKey: .hostileClients)
        halfOpen = try c.decodeIfPresent(Int.self, forKey: .halfOpen)
        halfOpenSource = try c.decodeIfPresent(String.self, forKey: .halfOpenSource)
    }

    /// Checks names, numbers and every threshold expression. Throws `.config`.
    public func validate() throws(LoadTestError) {
        for key in mix.keys where Scenario.mixScenarios.first(where: { $0.name == key }) == nil {
            throw .config("profile '\(name)': unknown scenario '\(key)' in mix (known: package badge me org feedback ingest hostile)")
        }
        if mix.values.contains(where: { $0 < 0 }) { throw .config("profile '\(name)': negative mix weight") }
        if days.isEmpty || days.contains(where: { $0 <= 0 }) { throw .config("profile '\(name)': days must be positive") }
        if !(zipfS >= 0 && zipfS <= 10) { throw .config("profile '\(name)': zipf_s must be within 0...10") }
        if phases.isEmpty { throw .config("profile '\(name)': no phases") }
        if let connections, !(1...4096).contains(connections) { throw .config("profile '\(name)': connections must be 1...4096") }
        if let timeout, !(timeout > 0 && timeout <= 120) { throw .config("profile '\(name)': timeout must be within (0, 120] s") }
        if let ingestBatch, !(1...1000).contains(ingestBatch) { throw .config("profile '\(name)': ingest_batch must be 1...1000") }
        if let hostileClients, !(1...65_536).contains(hostileClients) { throw .config("profile '\(name)': hostile_clients must be 1...65536") }
        if let halfOpen, !(0...10_000).contains(halfOpen) { throw .config("profile '\(name)': half_open must be 0...10000") }
        for expr in thresholds { _ = try Threshold(parsing: expr) }
        for phase in phases { try phase.validate(profile: name) }
    }

    /// Loads `NAME` (looked up as `LoadTests/profiles/NAME.json` from the working directory upwards, or in
    /// `$PRPM_LOADTEST_PROFILES`) or a path to a JSON file.
    public static func load(_ nameOrPath: String) throws(LoadTestError) -> Profile {
        let url = try locate(nameOrPath)
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .config("cannot read profile \(url.path): \(error)") }
        let profile: Profile
        do { profile = try JSONDecoder().decode(Profile.self, from: data) } catch {
            throw .config("invalid profile \(url.path): \(describe(error))")
        }
        try profile.validate()
        return profile
    }

    static func locate(_ nameOrPath: String) throws(LoadTestError) -> URL {
        let fm = FileManager.default
        if nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") {
            guard fm.fileExists(atPath: nameOrPath) else { throw .config("profile file not found: \(nameOrPath)") }
            return URL(fileURLWithPath: nameOrPath)
        }
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["PRPM_LOADTEST_PROFILES"] { candidates.append(dir) }
        var dir = URL(fileURLWithPath: fm.currentDirectoryPath)
        for _ in 0..<8 {
            candidates.append(dir.appendingPathComponent("LoadTests/profiles").path)
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        for candidate in candidates {
            let path = candidate + "/" + nameOrPath + ".json"
            if fm.fileExists(atPath: path) { return URL(fileURLWithPath: path) }
        }
        throw .config("profile '\(nameOrPath)' not found (looked in \(candidates.prefix(3).joined(separator: ", ")) …)")
    }
}

/// One phase of a profile. The kind follows from the fields present:
/// `rate_start` → step-up; `before`/`after` → fault; `rate` → constant arrival rate (open loop); neither → closed loop.
public struct PhaseSpec: Codable, Sendable, Equatable {
    public var name: String
    public var duration: Double?
    public var rate: Double?
    /// Whether the phase counts in the run totals and run thresholds. Default: true, except step-up and fault phases.
    public var record: Bool?
    /// A single-route GET phase instead of the mix (e.g. "/healthz").
    public var path: String?
    /// Instead of the mix, GET every package page (by id for each of the profile's `days`, and
    /// by name) and a badge of each, in turn: visits every page once so that its answer is
    /// cached (e.g. before a fault whose check expects cached pages to be served).
    public var prime: Bool?
    // Step-up.
    public var rateStart: Double?
    public var rateStep: Double?
    public var stepDuration: Double?
    public var maxRate: Double?
    public var stopWhen: [String]?
    // Fault.
    public var before: String?
    public var after: String?
    /// Seconds of load after the `after` command (fault phases; default 10).
    public var recovery: Double?
    /// Seconds a before/after command may run before it is terminated (default 120).
    public var commandTimeout: Double?
    /// Thresholds evaluated on this phase alone.
    public var check: [String]?

    enum CodingKeys: String, CodingKey {
        case name, duration, rate, record, path, prime, rateStart = "rate_start", rateStep = "rate_step", stepDuration = "step_duration",
            maxRate = "max_rate", stopWhen = "stop_when", before, after, recovery, commandTimeout = "command_timeout", check
    }

    public init(
        name: String, duration: Double? = nil, rate: Double? = nil, record: Bool? = nil, path: String? = nil, prime: Bool? = nil,
        rateStart: Double? = nil, rateStep: Double? = nil, stepDuration: Double? = nil, maxRate: Double? = nil,
        stopWhen: [String]? = nil, before: String? = nil, after: String? = nil, recovery: Double? = nil,
        commandTimeout: Double? = nil, check: [String]? = nil
    ) {
        self.name = name
        self.duration = duration
        self.rate = rate
        self.record = record
        self.path = path
        self.prime = prime
        self.rateStart = rateStart
        self.rateStep = rateStep
        self.stepDuration = stepDuration
        self.maxRate = maxRate
        self.stopWhen = stopWhen
        self.before = before
        self.after = after
        self.recovery = recovery
        self.commandTimeout = commandTimeout
        self.check = check
    }

    public enum Kind: String, Sendable, Codable { case constant, closed, stepup, fault }

    public var kind: Kind {
        if rateStart != nil { return .stepup }
        if before != nil || after != nil { return .fault }
        return rate == nil ? .closed : .constant
    }

    public var isRecorded: Bool { record ?? (kind != .stepup && kind != .fault) }

    /// Total seconds of load this phase generates (without drains).
    public var plannedSeconds: Double {
        switch kind {
        case .stepup:
            let start = rateStart ?? 0, step = rateStep ?? 1, maxRate = maxRate ?? start
            let steps = step > 0 ? Int(((maxRate - start) / step).rounded(.down)) + 1 : 1
            return Double(max(1, steps)) * (stepDuration ?? 0)
        case .fault: return (duration ?? 0) + (after != nil ? (recovery ?? 10) : 0)
        case .constant, .closed: return duration ?? 0
        }
    }

    func validate(profile: String) throws(LoadTestError) {
        let at = "profile '\(profile)', phase '\(name)'"
        if name.isEmpty { throw .config("\(profile): phase without a name") }
        if let path, !path.hasPrefix("/") { throw .config("\(at): path must start with /") }
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw .config("\(at): rate must be within (0, 1e6]") }
        switch kind {
        case .stepup:
            guard let rateStart, let rateStep, let stepDuration, let maxRate else {
                throw .config("\(at): step-up needs rate_start, rate_step, step_duration and max_rate")
            }
            guard rateStart > 0, rateStep > 0, stepDuration > 0, stepDuration <= 3600, maxRate >= rateStart, maxRate <= 1_000_000 else {
                throw .config("\(at): step-up needs rate_start > 0, rate_step > 0, 0 < step_duration <= 3600, rate_start <= max_rate <= 1e6")
            }
            if (maxRate - rateStart) / rateStep > 1000 { throw .config("\(at): more than 1000 steps") }
        case .fault, .constant, .closed:
            guard let duration, duration > 0, duration <= 3600 else { throw .config("\(at): duration must be within (0, 3600] s") }
            if let recovery, !(recovery >= 0 && recovery <= 3600) { throw .config("\(at): recovery must be within [0, 3600] s") }
        }
        for expr in stopWhen ?? [] { _ = try Threshold(parsing: expr) }
        for expr in check ?? [] { _ = try Threshold(parsing: expr) }
    }
}

/// `.data/seed-fixtures.json` written by `prpm-analytics seed`.
public struct Fixtures: Codable, Sendable, Equatable {
    public struct Package: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public struct Org: Codable, Sendable, Equatable {
        public var id: String
        public var admin: String
        public init(id: String, admin: String) {
            self.id = id
            self.admin = admin
        }
    }

    public struct Usage: Codable, Sendable, Equatable {
        public var id: String
        public var userId: String
        public var packageId: String
        public init(id: String, userId: String, packageId: String) {
            self.id = id
            self.userId = userId
            self.packageId = packageId
        }
    }

    /// Most popular first.
    public var packages: [Package]
    public var users: [String]
    public var orgs: [Org]
    public var usage: [Usage]

    public init(packages: [Package], users: [String], orgs: [Org] = [], usage: [Usage] = []) {
        self.packages = packages
        self.users = users
        self.orgs = orgs
        self.usage = usage
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        packages = try c.decodeIfPresent([Package].self, forKey: .packages) ?? []
        users = try c.decodeIfPresent([String].self, forKey: .users) ?? []
        orgs = try c.decodeIfPresent([Org].self, forKey: .orgs) ?? []
        usage = try c.decodeIfPresent([Usage].self, forKey: .usage) ?? []
    }

    public static func load(path: String) throws(LoadTestError) -> Fixtures {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .config("cannot read fixtures \(path) (run `prpm-analytics seed` first, or use --path): \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(Fixtures.self, from: data) } catch {
            throw .config("invalid fixtures \(path): \(describe(error))")
        }
    }
}

func describe(_ error: any Error) -> String {
    if let decoding = error as? DecodingError {
        switch decoding {
        case .keyNotFound(let key, let ctx): return "missing key '\(key.stringValue)' at \(pathText(ctx.codingPath))"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "\(ctx.debugDescription) at \(pathText(ctx.codingPath))"
        case .dataCorrupted(let ctx): return "\(ctx.debugDescription) at \(pathText(ctx.codingPath))"
        @unknown default: return "\(error)"
        }
    }
    return "\(error)"
}

private func pathText(_ path: [any CodingKey]) -> String {
    path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
}
