import NIOCore
import Synchronization

/// Where the primary is, as the sentinels say. Each time they name another primary the
/// generation goes up; connections of an older generation are closed by the client.
///
/// The watcher subscribes to `+switch-master` on one sentinel (the next one when that
/// connection breaks), so a failover is followed as soon as it is announced; once a second it
/// also asks, which catches an announcement made while it was reconnecting.
final class SentinelPrimary: Sendable {
    let master: String
    let configuration: RedisConfiguration

    private struct State {
        /// The primary new connections go to; nil: ask the sentinels first.
        var known: RedisConfiguration.Endpoint?
        /// The last primary named, to tell a switch from a first answer.
        var last: RedisConfiguration.Endpoint?
    }

    private let state = Mutex(State())
    private let counter = Atomic<Int>(0)

    init(master: String, configuration: RedisConfiguration) {
        self.master = master
        self.configuration = configuration
    }

    var generation: Int { counter.load(ordering: .relaxed) }

    /// After a connection found no primary where the sentinels said: ask again next time.
    func forget() {
        state.withLock { $0.known = nil }
    }

    /// Records the primary the sentinels name; returns the new generation when it is another one.
    @discardableResult
    func observe(_ endpoint: RedisConfiguration.Endpoint) -> Int? {
        state.withLock { state in
            defer {
                state.known = endpoint
                state.last = endpoint
            }
            guard let last = state.last, last != endpoint else { return nil }
            return counter.add(1, ordering: .relaxed).newValue
        }
    }

    /// A connection to the primary, set up by `prepare` (which checks that it is one).
    func connect(
        on eventLoop: any EventLoop, prepare: @Sendable (RedisConnection) async throws -> Void
    ) async throws -> RedisConnection {
        do {
            var generation = self.generation
            let endpoint: RedisConfiguration.Endpoint
            if let known = state.withLock({ $0.known }) {
                endpoint = known
            } else {
                endpoint = try await ask(on: eventLoop)
                generation = observe(endpoint) ?? generation
            }
            let connection = try await RedisConnection.connect(
                to: endpoint, configuration: configuration, on: eventLoop, generation: generation)
            try await prepare(connection)
            // The sentinels named another primary while this one was being connected: the
            // connection would carry the new generation's label to the old primary.
            guard self.generation == generation else {
                connection.close()
                throw RedisError.connection("the primary changed while connecting")
            }
            return connection
        } catch {
            forget()
            throw error
        }
    }

    /// Asks the sentinels in turn (`SENTINEL get-master-addr-by-name`).
    func ask(on eventLoop: any EventLoop) async throws -> RedisConfiguration.Endpoint {
        var problems: [String] = []
        for sentinel in configuration.sentinels {
            do {
                let connection = try await RedisConnection.connect(to: sentinel, configuration: configuration, on: eventLoop)
                defer { connection.close() }
                if case .array(let address) = try await connection.command(["SENTINEL", "get-master-addr-by-name", master]),
                    address.count == 2, let host = address[0].string, let port = address[1].string.flatMap(Int.init)
                {
                    return RedisConfiguration.Endpoint(host: host, port: port)
                }
                problems.append("\(sentinel.host):\(sentinel.port) knows no primary \(master)")
            } catch {
                problems.append("\(sentinel.host):\(sentinel.port): \(error)")
            }
        }
        throw RedisError.connection("no sentinel named the primary: " + problems.joined(separator: "; "))
    }

    /// Follows the sentinels until the task is cancelled; `onSwitch` gets each new generation.
    func watch(eventLoop: any EventLoop, onSwitch: @escaping @Sendable (Int) -> Void) async {
        while !Task.isCancelled {
            for sentinel in configuration.sentinels {
                guard !Task.isCancelled else { return }
                do {
                    let connection = try await RedisConnection.connect(to: sentinel, configuration: configuration, on: eventLoop) {
                        [self] reply in
                        if let named = Self.announcedPrimary(reply, master: master), let generation = observe(named) {
                            onSwitch(generation)
                        }
                    }
                    defer { connection.close() }
                    _ = try await connection.pipeline([[Array("SUBSCRIBE".utf8), Array("+switch-master".utf8)]])
                    while connection.isActive, !Task.isCancelled {
                        if let named = try? await ask(on: eventLoop), let generation = observe(named) { onSwitch(generation) }
                        try? await Task.sleep(for: .seconds(1))
                    }
                } catch {
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
        }
    }

    /// The new primary of a `+switch-master` message about `master`
    /// (`<name> <old ip> <old port> <new ip> <new port>`).
    static func announcedPrimary(_ reply: RedisReply, master: String) -> RedisConfiguration.Endpoint? {
        guard case .array(let parts) = reply, parts.count == 3, parts[0].string == "message", parts[1].string == "+switch-master",
            let fields = parts[2].string?.split(separator: " "), fields.count == 5, fields[0] == master, let port = Int(fields[4])
        else { return nil }
        return RedisConfiguration.Endpoint(host: String(fields[3]), port: port)
    }
}
