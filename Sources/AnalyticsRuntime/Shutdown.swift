/// What a process holds until it ends and releases with an awaited `shutdown()` (`Runtime`,
/// `AppDependencies`).
public protocol ShutdownAwaitable: Sendable {
    func shutdown() async
}

extension Runtime: ShutdownAwaitable {}

/// Runs `body` with `resources`, then awaits `resources.shutdown()` on both paths: when `body`
/// throws, the shutdown has finished before the error propagates. Every command runs this way
/// (`defer { Task { await resources.shutdown() } }` is not awaited: the process could exit
/// before the shutdown ran).
public func withShutdown<Resources: ShutdownAwaitable, Result>(
    _ resources: Resources, _ body: (Resources) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resources)
    } catch {
        await resources.shutdown()
        throw error
    }
    await resources.shutdown()
    return result
}
