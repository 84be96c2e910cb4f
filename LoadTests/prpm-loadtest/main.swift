// prpm-loadtest: a thin command line over LoadTestCore (engine, profiles, thresholds and reports live there).
import ArgumentParser
import Foundation
import LoadTestCore

struct PRPMLoadTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prpm-loadtest",
        abstract: "Open-loop load tests of the PRPM+ Analytics API on this machine (loopback only).",
        discussion: "Exit codes: 0 passed, 1 a threshold was violated, 2 usage/configuration error, 3 run error (e.g. target down).",
        subcommands: [Run.self, ServeStatic.self, Token.self],
        defaultSubcommand: Run.self
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a profile, a single route (--path) or the default mix.")

    @Option(help: "Server under test: http://127.x.x.x|localhost|[::1]:PORT") var target = "http://127.0.0.1:8080"
    @Option(help: "Profile name (LoadTests/profiles/NAME.json) or a JSON file.") var profile: String?
    @Option(help: "Single-route GET run (like wrk): every phase requests PATH, the mix is ignored.") var path: String?
    @Option(help: "Requests per second, open loop (constant arrival rate). Without it: closed loop.") var rate: Double?
    @Option(help: "Seconds of load (default 10; with a profile: overrides its recorded steady phases).") var duration: Double?
    @Option(help: "Keep-alive connections (default: the profile's, else 32).") var connections: Int?
    @Option(help: "Event loop threads of the engine.") var threads = 1
    @Option(help: "Threshold such as p99<10ms, p50<=2ms, errors<0.1%, hit_ratio>0.95, throughput>1000, badge:p99<5ms.")
    var threshold: [String] = []
    @Option(help: "Write the JSON report to FILE.") var json: String?
    @Option(name: [.customLong("html"), .customLong("chart")], help: "Write an HTML page with SVG charts to FILE.") var html: String?
    @Option(help: "Also write the text report to FILE.") var text: String?
    @Option(help: "Per-request timeout in seconds, counted from the intended send time (default: profile's, else 5).")
    var timeout: Double?
    @Option(help: "PRNG seed (scenario mix, Zipf picks).") var seed: UInt64?
    @Option(help: "Seed fixtures written by `prpm-analytics seed`.") var fixtures = ".data/seed-fixtures.json"
    @Option(help: "HS256 secret for user JWTs (default: $JWT_SECRET).") var jwtSecret: String?
    @Option(help: "Bearer token of POST /usage (default: $INGEST_TOKEN).") var ingestToken: String?
    @Option(help: "Static route measured as the baseline.") var baselinePath = "/healthz"
    @Option(help: "Seconds of closed-loop baseline at the start (0: none; default: profile's, else 3).") var baselineDuration: Double?
    @Option(help: "Prometheus endpoint of the server.") var metricsPath = "/metrics"
    @Flag(help: "Do not scrape the server's metrics.") var noMetrics = false
    @Option(help: "Seconds between /metrics scrapes during the run.") var scrapeInterval = 5.0
    @Option(help: "Hard cap on requests over the whole run.") var maxRequests = 20_000_000
    @Flag(help: "No live progress line on stderr.") var quiet = false

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let targetValue = try Target(url: target)
        var loaded: Profile
        if let profile {
            loaded = try Profile.load(profile).overriding(rate: rate, duration: duration)
        } else {
            loaded = Profile.single(name: path == nil ? "default-mix" : "path", rate: rate, duration: duration ?? 10)
        }
        let config = RunConfig(
            target: targetValue,
            profile: loaded,
            path: path,
            connections: connections ?? loaded.connections ?? 32,
            threads: threads,
            timeoutSeconds: timeout ?? loaded.timeout ?? 5,
            seed: seed ?? loaded.seed ?? 1,
            fixturesPath: fixtures,
            jwtSecret: jwtSecret ?? env["JWT_SECRET"],
            ingestToken: ingestToken ?? env["INGEST_TOKEN"],
            thresholds: threshold,
            baselinePath: baselinePath,
            baselineSeconds: baselineDuration ?? loaded.baseline ?? 3,
            metricsPath: noMetrics ? nil : metricsPath,
            scrapeIntervalSeconds: scrapeInterval,
            maxRequests: maxRequests,
            progress: !quiet
        )
        let report = try await LoadRunner(config: config, log: { standardError($0) }).run()
        let textReport = report.renderText()
        print(textReport, terminator: "")
        if let json { try write(report.jsonData(), to: json) }
        if let html { try write(Data(report.renderHTML().utf8), to: html) }
        if let text { try write(Data(textReport.utf8), to: text) }
        if !report.passed { throw ExitCode(1) }
    }

    func write(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw LoadTestError.runtime("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

struct ServeStatic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-static", abstract: "A tiny SwiftNIO HTTP server (any path: 200 ok) to measure the engine against wrk."
    )

    @Option var host = "127.0.0.1"
    @Option var port = 8099
    @Option var threads = 1

    func run() async throws {
        guard Target.isLoopback(host) else { throw ValidationError("serve-static binds to loopback addresses only") }
        let server = try await StaticHTTPServer.start(host: host, port: port, threads: threads)
        standardError("serve-static listening on http://\(host):\(server.port)")
        try await server.wait()
    }
}

@Sendable func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

do {
    var command = try PRPMLoadTest.parseAsRoot()  // `var`: ParsableCommand.run is mutating
    switch command {
    case let run as Run: try await run.run()
    case let serve as ServeStatic: try await serve.run()
    case let token as Token: try await token.run()
    default: try command.run()  // the root: prints help
    }
} catch let code as ExitCode {
    exit(code.rawValue)
} catch let error as LoadTestError {
    standardError("prpm-loadtest: \(error)")
    if case .config = error { exit(2) }
    exit(3)
} catch {
    if PRPMLoadTest.exitCode(for: error) == .success { PRPMLoadTest.exit(withError: error) }
    standardError(PRPMLoadTest.fullMessage(for: error))
    exit(2)
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a user JWT as PRPM's registry signs them (HS256, claims user_id and exp), for scripts and curl.")

    @Option(help: "The user id (the user_id claim).") var user: String
    @Option(help: "HS256 secret (default: env JWT_SECRET).") var secret: String?
    @Option(help: "Seconds until it expires.") var expiresIn = 7200

    func run() async throws {
        guard let secret = secret ?? ProcessInfo.processInfo.environment["JWT_SECRET"] else {
            throw ValidationError("pass --secret or set JWT_SECRET")
        }
        print(try await UserTokens.sign(user: user, secret: secret, expiresIn: expiresIn))
    }
}
