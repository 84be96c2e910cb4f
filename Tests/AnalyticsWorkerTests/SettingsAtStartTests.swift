import Foundation
import TestSupport
import Testing

@Suite("Settings at start")
struct SettingsAtStartTests {
    @Test func badValuesStopServeAndWorkerWithAMessageNamingThem() throws {
        let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/prpm-analytics").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (Scripts/test does)")
        for (command, variables) in [
            ("serve", ["PORT=abc", "CACHE_TTL_PACKAGE_S=-5"]), ("worker", ["WORKER_LEASE_TTL_S=soon", "WORKER_JOBS=trends,cleanup"]),
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [command, "--plain-logs"]
            var environment = [
                "DATABASE_URL": TestEnvironment.databaseURL, "REDIS_URL": TestEnvironment.redisURL, "JWT_SECRET": TestEnvironment.jwtSecret,
            ]
            for variable in variables {
                let parts = variable.split(separator: "=", maxSplits: 1).map(String.init)
                environment[parts[0]] = parts[1]
            }
            process.environment = environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus != 0, "\(command) started with \(variables)")
            for variable in variables {
                #expect(message.contains(String(variable.prefix(while: { $0 != "=" }))), "\(command): \(message)")
            }
        }
    }
}
