import AnalyticsAPI
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// A raw TCP client that can do what well-behaved HTTP clients never do.
final class RawClient {
    let fd: Int32

    /// A connection to 127.0.0.1:`port`, from `source` (another loopback address: another
    /// client, as the server sees it) when given.
    init(port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL) }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // On failure the descriptor is closed by deinit.
        guard fd >= 0, connected == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED) }
    }

    deinit { if fd >= 0 { close(fd) } }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
    }

    /// Whether the server closed the connection (EOF or reset) within `within`.
    func isClosedByServer(within: Duration) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(within.components.seconds * 1000 + within.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        let read = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
        return read == 0 || (read < 0 && errno == ECONNRESET)
    }

    /// The status line of the answer to a complete request.
    func statusLine() -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 2000) == 1 else { return "" }
        let read = recv(fd, &buffer, buffer.count, 0)
        guard read > 0 else { return "" }
        return String(decoding: buffer[0..<read], as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
    }
}

@Suite("Slow and idle clients", .serialized)
struct SlowClientTests {
    func median(_ client: some TestClientProtocol, _ uri: String) async throws -> Duration {
        var times: [Duration] = []
        for _ in 0..<5 {
            let start = ContinuousClock.now
            #expect(try await client.get(uri).status == .ok)
            times.append(ContinuousClock.now - start)
        }
        return times.sorted()[2]
    }

    @Test func twoThousandHalfSentRequestsNeitherStopTheServerNorStayOpen() async throws {
        let replica = try await makeReplica { $0.connections.idleTimeout = .seconds(2) }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("slow-clients")
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").status == .ok)
                var sockets: [RawClient] = []
                for index in 0..<2000 {
                    let socket = try RawClient(port: port)
                    socket.send("GET /api/v1/analytics/pack")
                    sockets.append(socket)
                    // The test client's own keep-alive connection must not idle out meanwhile.
                    if index % 200 == 199 { #expect(try await client.get("/healthz").status == .ok) }
                }
                #expect(try await median(client, "/healthz") < .milliseconds(100))
                #expect(try await median(client, "/api/v1/analytics/package/\(package.id)") < .milliseconds(100))
                // Past the idle timeout, the server has closed them all (the test client keeps its
                // own connection busy meanwhile).
                for _ in 0..<6 {
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(try await client.get("/healthz").status == .ok)
                }
                let open = sockets.filter { !$0.isClosedByServer(within: .milliseconds(500)) }.count
                #expect(open == 0, "\(open) of 2000 half-sent requests still open")
            }
        }
    }

    @Test func aTricklingBodyIsCutOffAtTheBodyTimeout() async throws {
        let replica = try await makeReplica { $0.connections.bodyTimeout = .seconds(1) }
        try await withCleanup({ await replica.shutdown() }) {
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let socket = try RawClient(port: try #require(client.port))
                socket.send(
                    "POST /api/v1/analytics/usage HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestEnvironment.ingestToken)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{")
                #expect(!socket.isClosedByServer(within: .milliseconds(300)))
                socket.send("\"")
                #expect(socket.isClosedByServer(within: .seconds(3)))
                #expect(try await client.get("/healthz").status == .ok)
            }
        }
    }

    @Test func connectionsBeyondTheLimitAreClosedAtOnce() async throws {
        let replica = try await makeReplica { $0.connections.maxConnections = 40 }
        try await withCleanup({ await replica.shutdown() }) {
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                // The test client's connection is the first of the 40.
                #expect(try await client.get("/healthz").status == .ok)
                var held: [RawClient] = []
                for _ in 0..<39 { held.append(try RawClient(port: port)) }
                try await Task.sleep(for: .milliseconds(100))
                let beyond = try RawClient(port: port)
                #expect(beyond.isClosedByServer(within: .seconds(1)))
                #expect(held.filter { $0.isClosedByServer(within: .milliseconds(1)) }.isEmpty)
                held.removeLast(5)
                try await Task.sleep(for: .milliseconds(100))
                let admitted = try RawClient(port: port)
                admitted.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(admitted.statusLine() == "HTTP/1.1 200 OK")
            }
        }
    }
}
