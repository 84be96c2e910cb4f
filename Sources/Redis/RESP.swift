import NIOCore

/// RESP2, the protocol of Redis 7.0: commands are arrays of bulk strings; replies are
/// decoded incrementally from what the socket delivered so far.
enum RESP {
    /// Appends `*N\r\n$len\r\narg\r\n…` for one command (binary safe).
    static func write(_ arguments: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(arguments.count, into: &buffer)
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(value))
        buffer.writeStaticString("\r\n")
    }

    /// The reply at the start of `bytes` and how many bytes it took, or nil while it is incomplete.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(RedisError) -> (RedisReply, Int)? {
        var cursor = 0
        guard let reply = try parse(bytes, at: &cursor, depth: 0) else { return nil }
        return (reply, cursor)
    }

    /// Nesting deeper than this is not a reply of ours: a protocol error, not a stack overflow.
    static let maximumDepth = 32

    private static func parse(_ bytes: UnsafeRawBufferPointer, at cursor: inout Int, depth: Int) throws(RedisError) -> RedisReply? {
        guard depth <= maximumDepth else { throw RedisError.unexpectedReply("replies nested deeper than \(maximumDepth)") }
        guard cursor < bytes.count else { return nil }
        let kind = bytes[cursor]
        guard let line = lineEnd(bytes, from: cursor + 1) else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[(cursor + 1)..<line])
        let next = line + 2
        switch kind {
        case UInt8(ascii: "+"):
            cursor = next
            return .status(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: "-"):
            cursor = next
            return .error(String(decoding: text, as: UTF8.self))
        case UInt8(ascii: ":"):
            cursor = next
            return .integer(try integer(text))
        case UInt8(ascii: "$"):
            let length = try integer(text)
            if length < 0 {
                cursor = next
                return .null
            }
            guard next + length + 2 <= bytes.count else { return nil }
            guard bytes[next + length] == UInt8(ascii: "\r"), bytes[next + length + 1] == UInt8(ascii: "\n") else {
                throw RedisError.unexpectedReply("bulk string without its CRLF")
            }
            let value = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[next..<(next + length)]))
            cursor = next + length + 2
            return .bulk(value)
        case UInt8(ascii: "*"):
            let count = try integer(text)
            if count < 0 {
                cursor = next
                return .null
            }
            var position = next
            var items: [RedisReply] = []
            items.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let item = try parse(bytes, at: &position, depth: depth + 1) else { return nil }
                items.append(item)
            }
            cursor = position
            return .array(items)
        default:
            throw RedisError.unexpectedReply("unknown reply type byte \(kind)")
        }
    }

    /// The index of the `\r` of the `\r\n` that ends the line starting at `start`.
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }

    private static func integer(_ text: UnsafeRawBufferPointer) throws(RedisError) -> Int {
        guard let value = Int(String(decoding: text, as: UTF8.self)) else {
            throw RedisError.unexpectedReply("not an integer: \(String(decoding: text.prefix(32), as: UTF8.self))")
        }
        return value
    }
}

/// Turns the bytes of a connection into replies, one `channelRead` each.
struct RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RedisReply

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let parsed = try buffer.withUnsafeReadableBytes { try RESP.parse($0) }
        guard let (reply, length) = parsed else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: length)
        context.fireChannelRead(Self.wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
