import ArgumentParser
import NIOCore
import NIOPosix

// `serve` and `worker` run Swift concurrency on NIO's event loops (the ones Hummingbird and
// the Redis client use): an `await` on a Redis reply resumes on the loop that read it, with
// no hand-off to another thread. Installed before any task runs; `migrate` and `seed` keep
// the default executor (the seeder waits on its generator threads).
if let command = CommandLine.arguments.dropFirst().first, ["serve", "worker"].contains(command) {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
await PRPMAnalytics.launch()

extension PRPMAnalytics {
    /// What `@main` would call: parse, then run the (async) subcommand.
    static func launch() async {
        await main()
    }
}
