import NIOCore
import NIOPosix

/// One sample of the Prometheus text exposition format.
public struct PromSample: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

/// A parsed `/metrics` page.
public struct PromSnapshot: Sendable {
    public var samples: [PromSample]
    public var takenAtNs: UInt64

    public init(samples: [PromSample], takenAtNs: UInt64 = 0) {
        self.samples = samples
        self.takenAtNs = takenAtNs
    }

    /// Parses the text format; malformed lines are skipped.
    public init(parsing text: String, takenAtNs: UInt64 = 0) {
        self.takenAtNs = takenAtNs
        samples = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let sample = PromSnapshot.parseLine(Substring(line)) { samples.append(sample) }
        }
    }

    static func parseLine(_ line: Substring) -> PromSample? {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " ", line[index] != "\t" { index = line.index(after: index) }
        let name = String(line[line.startIndex..<index])
        guard !name.isEmpty else { return nil }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while index < line.endIndex, line[index] != "}" {
                if line[index] == "," || line[index] == " " {
                    index = line.index(after: index)
                    continue
                }
                guard let eq = line[index...].firstIndex(of: "=") else { return nil }
                let key = String(line[index..<eq]).trimmingCharacters(in: " ")
                var cursor = line.index(after: eq)
                guard cursor < line.endIndex, line[cursor] == "\"" else { return nil }
                cursor = line.index(after: cursor)
                var value = ""
                while cursor < line.endIndex, line[cursor] != "\"" {
                    if line[cursor] == "\\" {
                        cursor = line.index(after: cursor)
                        guard cursor < line.endIndex else { return nil }
                        switch line[cursor] {
                        case "n": value.append("\n")
                        default: value.append(line[cursor])
                        }
                    } else {
                        value.append(line[cursor])
                    }
                    cursor = line.index(after: cursor)
                }
                guard cursor < line.endIndex else { return nil }
                labels[key] = value
                index = line.index(after: cursor)
            }
            guard index < line.endIndex else { return nil }
            index = line.index(after: index)
        }
        let rest = line[index...].split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = rest.first else { return nil }
        let value: Double
        switch first {
        case "+Inf", "Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(first) else { return nil }
            value = parsed
        }
        return PromSample(name: name, labels: labels, value: value)
    }

    public func samples(named name: String) -> [PromSample] {
        samples.filter { $0.name == name }
    }

    /// Sum over all label sets accepted by `filter`; nil when the metric is absent.
    public func sum(_ name: String, where filter: ([String: String]) -> Bool = { _ in true }) -> Double? {
        let matching = samples.filter { $0.name == name && filter($0.labels) }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// Sums grouped by the value of `label`.
    public func sum(_ name: String, by label: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for sample in samples where sample.name == name {
            out[sample.labels[label] ?? "", default: 0] += sample.value
        }
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s.removeFirst() }
        while let last = s.last, set.contains(last) { s.removeLast() }
        return String(s)
    }
}

/// A one-shot `GET` over a fresh connection (for `/metrics`), with a timeout.
public enum SimpleHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public static func get(
        _ path: String, target: Target, group: any EventLoopGroup, timeout: TimeAmount = .seconds(5)
    ) async throws -> Response {
        let loop = group.next()
        let promise = loop.makePromise(of: Response.self)
        let request = "GET \(path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: prpm-loadtest\r\nConnection: close\r\n\r\n"
        let address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        let timeoutTask = loop.scheduleTask(in: timeout) {
            promise.fail(LoadTestError.runtime("GET \(path): timed out"))
        }
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(OneShotHandler(promise: promise, request: request))
                    }
                }
                .connect(to: address)
                .get()
        } catch {
            timeoutTask.cancel()
            promise.fail(error)
            throw error
        }
        defer {
            timeoutTask.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }

    final class OneShotHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let promise: EventLoopPromise<Response>
        let request: String
        var parser = HTTPResponseParser(collectBody: true)

        init(promise: EventLoopPromise<Response>, request: String) {
            self.promise = promise
            self.request = request
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            do {
                try parser.feed(unwrapInboundIn(data)) { response in
                    promise.succeed(Response(status: response.status, body: String(decoding: response.body, as: UTF8.self)))
                }
            } catch {
                promise.fail(error)
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            parser.finishAtEOF { response in
                promise.succeed(Response(status: response.status, body: String(decoding: response.body, as: UTF8.self)))
            }
            promise.fail(LoadTestError.runtime("connection closed before a response"))
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}
