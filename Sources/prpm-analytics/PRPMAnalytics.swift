import Analytics
import AnalyticsAPI
import AnalyticsRuntime
import AnalyticsSeed
import AnalyticsWorker
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StructuredLogging

struct PRPMAnalytics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prpm-analytics",
        abstract: "PRPM+ Analytics: usage analytics of the prompt registry.",
        subcommands: [Migrate.self, Seed.self, Serve.self, Worker.self, SQL.self])
}

/// Options every command shares; each overrides its environment variable.
struct CommonOptions: ParsableArguments {
    @Option(help: "libpq connection URI (env DATABASE_URL).") var databaseURL: String?
    @Option(help: "redis://host:port/db (env REDIS_URL).") var redisURL: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error (env LOG_LEVEL).") var logLevel: String?
    @Flag(help: "Plain-text logs instead of JSON lines.") var plainLogs = false

    /// The settings of `worker`, `migrate` and `seed` (no HTTP, no JWT secret).
    func runtimeConfig() throws -> RuntimeConfig {
        var config = try RuntimeConfig(environment: ProcessInfo.processInfo.environment)
        override(&config)
        return config
    }

    /// The settings of `serve`.
    func appConfig() throws -> AppConfig {
        var config = try AppConfig(environment: ProcessInfo.processInfo.environment)
        override(&config.runtime)
        return config
    }

    private func override(_ config: inout RuntimeConfig) {
        if let databaseURL { config.databaseURL = databaseURL }
        if let redisURL { config.redisURL = redisURL }
        if let logLevel { config.logLevel = logLevel }
    }

    func logger(_ label: String, config: RuntimeConfig) -> Logger {
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        let json = !plainLogs
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the schema (versioned, idempotent).")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try common.runtimeConfig()
        let logger = common.logger("prpm.migrate", config: config)
        try await withRuntime(config, logger) { dependencies in
            let applied = try await Migrator.migrate(dependencies.postgres, logger: logger)
            logger.info("migrations applied", metadata: ["versions": "\(applied)", "latest": "\(Migrator.all.last?.version ?? 0)"])
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load deterministic demo data with COPY (into an empty database).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Usage rows.") var rows = 200_000
    @Option(help: "Users.") var users = 2_000
    @Option(help: "Packages (Zipf popularity).") var packages = 300
    @Option(help: "Organizations.") var orgs = 20
    @Option(help: "Days of history up to today.") var days = 90
    @Option(help: "Seed of the generator (same seed, same data).") var randomSeed: UInt64 = 42
    @Option(help: "Where to write the load tester's fixture file.") var fixtures: String?
    @Flag(help: "Do nothing when the database already has usage rows.") var ifEmpty = false

    func run() async throws {
        let config = try common.runtimeConfig()
        let logger = common.logger("prpm.seed", config: config)
        var options = SeedOptions()
        options.rows = rows
        options.users = users
        options.packages = packages
        options.orgs = orgs
        options.days = days
        options.randomSeed = randomSeed
        options.fixturesPath = fixtures
        try await withRuntime(config, logger) { [ifEmpty, options] dependencies in
            try await Migrator.migrate(dependencies.postgres, logger: logger)
            if ifEmpty, try await !Seeder.isEmpty(dependencies.postgres) {
                logger.info("database already has usage rows: not seeding")
                return
            }
            let summary = try await Seeder.run(options, client: dependencies.postgres, logger: logger)
            logger.info("seeded", metadata: ["rows": "\(summary.rows)", "seconds": "\(summary.seconds)"])
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP query API.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on (env HOST).") var host: String?
    @Option(help: "Port (env PORT).") var port: Int?

    func run() async throws {
        var config = try common.appConfig()
        if let host { config.host = host }
        if let port { config.port = port }
        let logger = common.logger("prpm.serve", config: config.runtime)
        // The clients are closed after the group has finished, also when it throws.
        try await withShutdown(try AppDependencies(config: config, logger: logger)) { dependencies in
            let app = try await buildApplication(dependencies)
            let drain = DrainService(state: dependencies.drain, delay: config.shutdownDrain, logger: logger)
            // Graceful shutdown runs in reverse order: the drain (readiness 503) first, then the
            // server, then the background services it used (the access log writes its last lines).
            let serviceGroup = ServiceGroup(
                configuration: .init(
                    services: dependencies.backgroundServices + [app, drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await serviceGroup.run()
        }
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the background worker (refresh, trends, retention).")
    @OptionGroup var common: CommonOptions
    @Option(help: "Run one job (refresh, trends, retention) and exit: 0 when it succeeded.") var once: String?

    func run() async throws {
        let config = try common.runtimeConfig()
        // Every setting is checked before anything starts.
        let workerConfig = try WorkerConfig(environment: ProcessInfo.processInfo.environment)
        let logger = common.logger("prpm.worker", config: config)
        let job = try once.map { once in
            guard let job = WorkerJob(rawValue: once) else { throw ValidationError("unknown job \(once): use refresh, trends or retention") }
            return job
        }
        try await withRuntime(config, logger) { dependencies in
            let worker = AnalyticsWorker(
                dependencies: WorkerDependencies(
                    postgres: dependencies.postgres, redis: dependencies.redis, queries: dependencies.queries, cache: dependencies.cache,
                    config: workerConfig, logger: logger, reading: dependencies.reading))
            if let job {
                if await !worker.runOnce(job) { throw ExitCode(1) }
                return
            }
            // The worker stops first, then the loops (reverse order).
            let serviceGroup = ServiceGroup(
                configuration: .init(
                    services: dependencies.backgroundServices + [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await serviceGroup.run()
        }
    }
}

/// Makes the runtime, runs `body`, and awaits the runtime's shutdown on both paths (see
/// `withShutdown`): the clients are closed before the command returns or its error propagates.
func withRuntime<T>(_ config: RuntimeConfig, _ logger: Logger, _ body: (Runtime) async throws -> T) async throws -> T {
    try await withShutdown(try Runtime(config: config, logger: logger), body)
}

struct SQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the statements of an answer (package, user, organization, organization-report) or a write (ingest, feedback).",
        discussion: "Each statement ends with a semicolon and a newline; parameters are $1, $2, … as the service binds them.")

    @Argument(help: "package | user | organization | organization-report | ingest | feedback") var answer: String

    func run() throws {
        let statements: [String]
        switch answer {
        case "package": statements = AnalyticsSQL.Package.all
        case "user": statements = AnalyticsSQL.User.all
        case "organization": statements = AnalyticsSQL.Organization.all
        case "organization-report": statements = AnalyticsSQL.OrganizationReport.all
        case "ingest": statements = [AnalyticsSQL.ingest]
        case "feedback": statements = [AnalyticsSQL.feedback]
        default: throw ValidationError("unknown answer \(answer): use package, user, organization, organization-report, ingest or feedback")
        }
        for statement in statements { print(statement + ";") }
    }
}
