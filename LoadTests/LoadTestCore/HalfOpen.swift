import Foundation
import NullableCoding
import Synchronization

/// Connections that start a request and never finish its head (slowloris), held for the whole
/// run from one source address (`half_open`, `half_open_source` of a profile): the server must
/// close them (idle timeout, per-client connection cap) without its real clients noticing.
/// Blocking sockets on a thread of their own, reopened as the server closes them.
final class HalfOpenClients: Sendable {
    let count: Int
    let source: String
    let port: Int
    private let state = Mutex<State>(State())
    private let stopping = Atomic<Bool>(false)

    struct State {
        var opened = 0
        var refused = 0
        var closedByServer = 0
        var held = 0
    }

    init(count: Int, source: String, port: Int) {
        self.count = count
        self.source = source
        self.port = port
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "half-open"
        thread.start()
    }

    func stop() -> HalfOpenReport {
        stopping.store(true, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 1.1)
        return state.withLock {
            HalfOpenReport(
                target: count, source: source, opened: $0.opened, refused: $0.refused, closedByServer: $0.closedByServer, heldAtEnd: $0.held)
        }
    }

    private func loop() {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        while !stopping.load(ordering: .relaxed) {
            // The ones the server closed.
            sockets.removeAll { fd in
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 0) == 1 else { return false }
                var byte: UInt8 = 0
                let read = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
                guard read == 0 || (read < 0 && errno != EAGAIN) else { return false }
                close(fd)
                state.withLock { $0.closedByServer += 1 }
                return true
            }
            while sockets.count < count, !stopping.load(ordering: .relaxed) {
                guard let fd = open() else {
                    state.withLock { $0.refused += 1 }
                    break
                }
                sockets.append(fd)
                state.withLock { $0.opened += 1 }
            }
            state.withLock { $0.held = sockets.count }
            // A patient attacker: closed connections are reopened once a second, not in a tight loop.
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// A connection from `source` that sent half a request head.
    private func open() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok =
            withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            && withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
        guard ok else {
            close(fd)
            return nil
        }
        let partial = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        _ = partial.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
        return fd
    }
}

/// What the half-open connections met (`half_open` in the JSON report).
public struct HalfOpenReport: Codable, Sendable, Equatable {
    public var target: Int
    public var source: String
    public var opened: Int
    /// Connection attempts that failed outright.
    public var refused: Int
    /// Connections the server closed (idle timeout or a cap).
    public var closedByServer: Int
    public var heldAtEnd: Int

    enum CodingKeys: String, CodingKey {
        case target, source, opened, refused, closedByServer = "closed_by_server", heldAtEnd = "held_at_end"
    }
}
