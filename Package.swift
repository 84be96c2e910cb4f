// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "prpm-analytics",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prpm-analytics", targets: ["prpm-analytics"]),
        .executable(name: "prpm-loadtest", targets: ["prpm-loadtest"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        // The C library of the first design's blocking Postgres client (being retired: issue 25).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // A generic pool of blocking connections run on a dedicated NIOThreadPool.
        .target(
            name: "ConnectionPool",
            dependencies: [
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A safe Swift wrapper over libpq (being retired: issue 25).
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", "ConnectionPool", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // Our RESP2 client on SwiftNIO: one multiplexed connection per event loop.
        .target(
            name: "Redis",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // JSON `null` for absent optionals (response bodies and load-test reports).
        .target(name: "NullableCoding", swiftSettings: swiftSettings),
        // Domain: schema, queries, response models, window/rounding/version rules.
        .target(
            name: "Analytics",
            dependencies: ["Postgres", "NullableCoding", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Resources/Migrations")],
            swiftSettings: swiftSettings
        ),
        // Deterministic demo data, loaded with COPY.
        .target(
            name: "AnalyticsSeed",
            dependencies: ["Analytics", "Postgres", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The Redis cache in front of the queries.
        .target(
            name: "AnalyticsCache",
            dependencies: [
                "Analytics", "Redis", "Postgres", "ConnectionPool",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Settings from environment variables: typed, range-checked, bad values stop the process.
        .target(name: "Settings", swiftSettings: swiftSettings),
        // What every process runs on: thread pools, the Postgres and Redis clients, the breaker,
        // the cache, metrics, and the settings they need.
        .target(
            name: "AnalyticsRuntime",
            dependencies: [
                "Analytics", "AnalyticsCache", "ConnectionPool", "Postgres", "Redis", "Settings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Server-rendered pages: mustache templates and their view models.
        .target(
            name: "AnalyticsPages",
            dependencies: ["Analytics", .product(name: "Mustache", package: "swift-mustache")],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),
        // SVG / shields.io badges: pure rendering, no I/O.
        .target(name: "Badges", swiftSettings: swiftSettings),
        // HTTP: routes, auth, error mapping.
        .target(
            name: "AnalyticsAPI",
            dependencies: [
                "Analytics", "AnalyticsCache", "AnalyticsPages", "AnalyticsRuntime", "Badges", "Postgres", "Redis", "Settings",
                "StructuredLogging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json")],
            swiftSettings: swiftSettings
        ),
        // Background jobs: refresh-ahead, trends, retention, leases.
        .target(
            name: "AnalyticsWorker",
            dependencies: [
                "Analytics", "AnalyticsCache", "AnalyticsRuntime", "Postgres", "Redis", "Settings",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "prpm-analytics",
            dependencies: [
                "Analytics", "AnalyticsAPI", "AnalyticsRuntime", "AnalyticsSeed", "AnalyticsWorker", "Postgres", "Redis", "Settings",
                "StructuredLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // JSON-lines log handler for swift-log.
        .target(
            name: "StructuredLogging",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The load-test harness: engine, scenarios and reports in a library, a thin executable.
        .target(
            name: "LoadTestCore",
            dependencies: [
                "NullableCoding",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            path: "LoadTests/LoadTestCore",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "prpm-loadtest",
            dependencies: ["LoadTestCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "LoadTests/prpm-loadtest",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "SettingsTests", dependencies: ["Settings"], swiftSettings: swiftSettings),
        .testTarget(name: "AnalyticsPagesTests", dependencies: ["AnalyticsPages", "Analytics"], swiftSettings: swiftSettings),
        .testTarget(name: "ConnectionPoolTests", dependencies: ["ConnectionPool", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AnalyticsTests",
            dependencies: ["Analytics", "AnalyticsSeed", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AnalyticsWorkerTests", dependencies: ["AnalyticsWorker", "AnalyticsRuntime", "AnalyticsCache", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AnalyticsCacheTests", dependencies: ["AnalyticsCache", "Analytics", "ConnectionPool", "Redis", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BadgesTests", dependencies: ["Badges"], swiftSettings: swiftSettings),
        .testTarget(name: "StructuredLoggingTests", dependencies: ["StructuredLogging"], swiftSettings: swiftSettings),
        .testTarget(name: "LoadTestCoreTests", dependencies: ["LoadTestCore", .product(name: "JWTKit", package: "jwt-kit")], swiftSettings: swiftSettings),
        .testTarget(
            name: "LoadTestIntegrationTests",
            dependencies: [
                "LoadTestCore", "AnalyticsAPI", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AnalyticsAPITests",
            dependencies: [
                "AnalyticsAPI", "Analytics", "AnalyticsCache", "AnalyticsPages", "AnalyticsRuntime", "Postgres", "Redis", "Settings",
                "StructuredLogging", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "TestSupport", dependencies: ["Postgres", "Redis", "Analytics"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
