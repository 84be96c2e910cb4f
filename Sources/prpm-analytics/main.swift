import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

// `serve` and `worker` run Swift concurrency on NIO's event loops (the ones Hummingbird and
// the Redis client use): an `await` on a Redis reply resumes on the loop that read it, with
// no hand-off to another thread. Installed before any task runs; `migrate` and `seed` keep
// the default executor (the seeder waits on its generator threads).
// `NIO_EXECUTOR=0` keeps Swift's default executor (for comparison and as an escape hatch).
if let command = CommandLine.arguments.dropFirst().first, ["serve", "worker"].contains(command),
    ProcessInfo.processInfo.environment["NIO_EXECUTOR"] != "0"
{
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
await PRPMAnalytics.launch()

extension PRPMAnalytics {
    /// What `@main` would call: parse, then run the (async) subcommand.
    static func launch() async {
        await main()
    }
}
