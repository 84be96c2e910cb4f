#if canImport(Glibc)
    import Foundation
    import Glibc
    import Synchronization

    // A minimal headless Chromium driver over the Chrome DevTools Protocol, using `--remote-debugging-pipe`:
    // Chromium reads NUL-terminated JSON commands from fd 3 and writes NUL-terminated JSON replies and events to fd 4.

    // MARK: - Values

    /// A JSON value exchanged with the browser (protocol parameters and results, values returned by `evaluate`).
    public enum BrowserValue: Sendable, Hashable, CustomStringConvertible {
        case string(String)
        case number(Double)
        case bool(Bool)
        case null
        case array([BrowserValue])
        case object([String: BrowserValue])

        public var string: String? {
            if case .string(let value) = self { value } else { nil }
        }

        public var number: Double? {
            if case .number(let value) = self { value } else { nil }
        }

        /// The number, if it is integral.
        public var int: Int? {
            guard let number, number.isFinite, number.rounded() == number, abs(number) < 9.0e15 else { return nil }
            return Int(number)
        }

        public var bool: Bool? {
            if case .bool(let value) = self { value } else { nil }
        }

        public var array: [BrowserValue]? {
            if case .array(let value) = self { value } else { nil }
        }

        public var object: [String: BrowserValue]? {
            if case .object(let value) = self { value } else { nil }
        }

        public var isNull: Bool {
            if case .null = self { true } else { false }
        }

        public subscript(key: String) -> BrowserValue? {
            object?[key]
        }

        public subscript(index: Int) -> BrowserValue? {
            guard let array, array.indices.contains(index) else { return nil }
            return array[index]
        }

        /// Compact JSON text, keys sorted.
        public var description: String {
            let options: JSONSerialization.WritingOptions = [.fragmentsAllowed, .sortedKeys]
            guard let data = try? JSONSerialization.data(withJSONObject: jsonObject, options: options) else { return "null" }
            return String(decoding: data, as: UTF8.self)
        }

        init(jsonObject: Any) {
            switch jsonObject {
            case let value as String:
                self = .string(value)
            case let value as NSNumber:
                // JSONSerialization returns booleans as NSNumber with the `char` type encoding.
                self = String(cString: value.objCType) == "c" ? .bool(value.boolValue) : .number(value.doubleValue)
            case let value as Bool:
                self = .bool(value)
            case let value as [Any]:
                self = .array(value.map(BrowserValue.init(jsonObject:)))
            case let value as [String: Any]:
                self = .object(value.mapValues(BrowserValue.init(jsonObject:)))
            default:
                self = .null
            }
        }

        var jsonObject: Any {
            switch self {
            case .string(let value): value
            case .number(let value):
                if let int { int } else if value.isFinite { value } else { NSNull() }
            case .bool(let value): value
            case .null: NSNull()
            case .array(let value): value.map(\.jsonObject)
            case .object(let value): value.mapValues(\.jsonObject)
            }
        }
    }

    extension BrowserValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
        ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
    {
        public init(stringLiteral value: String) { self = .string(value) }
        public init(integerLiteral value: Int) { self = .number(Double(value)) }
        public init(floatLiteral value: Double) { self = .number(value) }
        public init(booleanLiteral value: Bool) { self = .bool(value) }
        public init(arrayLiteral elements: BrowserValue...) { self = .array(elements) }

        public init(dictionaryLiteral elements: (String, BrowserValue)...) {
            self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
        }
    }

    // MARK: - Errors

    public enum BrowserError: Error, CustomStringConvertible {
        case executableNotFound(String)
        case launchFailed(String)
        /// The command could not complete because the browser was closed or Chromium exited.
        case disconnected(method: String, reason: String)
        case timeout(String, Duration)
        case protocolError(method: String, code: Int, message: String)
        case navigationFailed(url: String, reason: String)
        case javaScriptException(String)
        case elementNotFound(String)
        case elementNotVisible(String)
        case unsupportedKey(String)
        case conditionTimeout(String, Duration, lastError: String?)
        case unexpectedResponse(String)

        public var description: String {
            switch self {
            case .executableNotFound(let names):
                "Chromium not found (tried \(names)); install it or set the CHROMIUM environment variable"
            case .launchFailed(let message):
                "Chromium failed to start: \(message)"
            case .disconnected(let method, let reason):
                "\(method) failed: \(reason)"
            case .timeout(let what, let duration):
                "Timed out after \(duration) waiting for \(what)"
            case .protocolError(let method, let code, let message):
                "\(method) failed: \(message) (code \(code))"
            case .navigationFailed(let url, let reason):
                "Navigation to \(url) failed: \(reason)"
            case .javaScriptException(let message):
                "JavaScript exception: \(message)"
            case .elementNotFound(let selector):
                "No element matches \(selector)"
            case .elementNotVisible(let selector):
                "The element matching \(selector) has no visible box"
            case .unsupportedKey(let key):
                "Unsupported key \"\(key)\""
            case .conditionTimeout(let expression, let duration, let lastError):
                "Timed out after \(duration) waiting until \(expression)" + (lastError.map { " (last error: \($0))" } ?? "")
            case .unexpectedResponse(let message):
                "Unexpected response: \(message)"
            }
        }
    }

    // MARK: - Connection

    /// The DevTools pipe: sends commands, routes replies by `id` and events by `method` and `sessionId`.
    final class CDPConnection: Sendable {
        private struct PendingCommand {
            let method: String
            let sessionId: String?
            let continuation: CheckedContinuation<BrowserValue, any Error>
            var timer: Task<Void, Never>?
        }

        private struct EventWaiter {
            let method: String
            let sessionId: String?
            var outcome: Result<BrowserValue, any Error>?
            var continuation: CheckedContinuation<BrowserValue, any Error>?
            var timer: Task<Void, Never>?
        }

        private struct State {
            var nextId = 1
            var nextWaiterId = 1
            var pending: [Int: PendingCommand] = [:]
            var waiters: [Int: EventWaiter] = [:]
            /// Set once the pipe is closed; every later command fails with it.
            var disconnectReason: String?
        }

        let defaultTimeout: Duration
        private let readFD: Int32
        /// `nil` once closed, so a closed (and possibly reused) descriptor is never written to.
        private let writeFD: Mutex<Int32?>
        private let state = Mutex(State())
        private let stopping = Atomic<Bool>(false)

        init(writeFD: Int32, readFD: Int32, defaultTimeout: Duration) {
            self.writeFD = Mutex(writeFD)
            self.readFD = readFD
            self.defaultTimeout = defaultTimeout
            let thread = Thread { [self] in readLoop() }
            thread.name = "HeadlessBrowser.reader"
            thread.start()
        }

        var isConnected: Bool {
            state.withLock { $0.disconnectReason == nil }
        }

        /// Closes the command pipe (Chromium exits when it sees EOF), stops the reader and fails everything pending.
        func shutdown() {
            stopping.store(true, ordering: .releasing)
            writeFD.withLock { fd in
                if let open = fd { Glibc.close(open) }
                fd = nil
            }
            failAll(reason: "the browser was closed")
        }

        func send(
            _ method: String, _ params: [String: BrowserValue] = [:], sessionId: String? = nil, timeout: Duration? = nil
        ) async throws -> BrowserValue {
            let timeout = timeout ?? defaultTimeout
            let id = state.withLock { state in
                defer { state.nextId += 1 }
                return state.nextId
            }
            var message: [String: Any] = ["id": id, "method": method, "params": BrowserValue.object(params).jsonObject]
            if let sessionId { message["sessionId"] = sessionId }
            var data = try JSONSerialization.data(withJSONObject: message)
            data.append(0)

            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<BrowserValue, any Error>) in
                    let reason: String? = state.withLock { state in
                        if let reason = state.disconnectReason { return reason }
                        state.pending[id] = PendingCommand(method: method, sessionId: sessionId, continuation: continuation)
                        return nil
                    }
                    if let reason {
                        continuation.resume(throwing: BrowserError.disconnected(method: method, reason: reason))
                        return
                    }
                    let timer = Task {
                        try? await Task.sleep(for: timeout)
                        if Task.isCancelled { return }
                        self.completeCommand(id, .failure(BrowserError.timeout("the reply to \(method)", timeout)))
                    }
                    let stillPending = state.withLock { state in
                        guard state.pending[id] != nil else { return false }
                        state.pending[id]?.timer = timer
                        return true
                    }
                    if !stillPending { timer.cancel() }
                    if Task.isCancelled {
                        completeCommand(id, .failure(CancellationError()))
                    } else if !write(data) {
                        let reason = "cannot write to the DevTools pipe (Chromium exited or the browser was closed)"
                        completeCommand(id, .failure(BrowserError.disconnected(method: method, reason: reason)))
                    }
                }
            } onCancel: {
                completeCommand(id, .failure(CancellationError()))
            }
        }

        /// Starts collecting the next `method` event on `sessionId` (nil: browser-level); await it with `waitForEvent`.
        func registerWaiter(method: String, sessionId: String?) -> Int {
            state.withLock { state in
                let token = state.nextWaiterId
                state.nextWaiterId += 1
                var waiter = EventWaiter(method: method, sessionId: sessionId)
                if let reason = state.disconnectReason {
                    waiter.outcome = .failure(BrowserError.disconnected(method: "waiting for \(method)", reason: reason))
                }
                state.waiters[token] = waiter
                return token
            }
        }

        func cancelWaiter(_ token: Int) {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: token) }
            waiter?.timer?.cancel()
            waiter?.continuation?.resume(throwing: CancellationError())
        }

        func waitForEvent(_ token: Int, timeout: Duration? = nil) async throws -> BrowserValue {
            let timeout = timeout ?? defaultTimeout
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<BrowserValue, any Error>) in
                    let result: Result<BrowserValue, any Error>? = state.withLock { state in
                        guard let waiter = state.waiters[token] else {
                            return .failure(CancellationError())
                        }
                        if let outcome = waiter.outcome {
                            state.waiters[token] = nil
                            return outcome
                        }
                        state.waiters[token]?.continuation = continuation
                        return nil
                    }
                    if let result {
                        continuation.resume(with: result)
                        return
                    }
                    let method = state.withLock { $0.waiters[token]?.method } ?? "event"
                    let timer = Task {
                        try? await Task.sleep(for: timeout)
                        if Task.isCancelled { return }
                        self.completeWaiter(token, .failure(BrowserError.timeout("the event \(method)", timeout)))
                    }
                    let stillWaiting = state.withLock { state in
                        guard state.waiters[token] != nil else { return false }
                        state.waiters[token]?.timer = timer
                        return true
                    }
                    if !stillWaiting { timer.cancel() }
                    if Task.isCancelled { completeWaiter(token, .failure(CancellationError())) }
                }
            } onCancel: {
                completeWaiter(token, .failure(CancellationError()))
            }
        }

        // MARK: Completion

        private func completeCommand(_ id: Int, _ result: Result<BrowserValue, any Error>) {
            guard let command = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
            command.timer?.cancel()
            command.continuation.resume(with: result)
        }

        /// Resumes the waiter if it is being awaited, otherwise keeps the outcome for `waitForEvent`.
        private func completeWaiter(_ token: Int, _ result: Result<BrowserValue, any Error>) {
            let resumed = state.withLock { state -> EventWaiter? in
                guard let waiter = state.waiters[token], waiter.outcome == nil else { return nil }
                if waiter.continuation != nil { return state.waiters.removeValue(forKey: token) }
                state.waiters[token]?.outcome = result
                return nil
            }
            resumed?.timer?.cancel()
            resumed?.continuation?.resume(with: result)
        }

        private func failAll(reason: String) {
            let (commands, waiters) = state.withLock { state in
                if state.disconnectReason == nil { state.disconnectReason = reason }
                let commands = Array(state.pending.values)
                state.pending.removeAll()
                return (commands, Array(state.waiters.keys))
            }
            for command in commands {
                command.timer?.cancel()
                command.continuation.resume(throwing: BrowserError.disconnected(method: command.method, reason: reason))
            }
            for token in waiters {
                let method = state.withLock { $0.waiters[token]?.method } ?? "event"
                completeWaiter(token, .failure(BrowserError.disconnected(method: "waiting for \(method)", reason: reason)))
            }
        }

        /// Fails what is pending on one session (its target crashed or was detached).
        private func failSession(_ sessionId: String, reason: String) {
            let (commands, waiters) = state.withLock { state in
                let ids = state.pending.filter { $0.value.sessionId == sessionId }.map(\.key)
                let commands = ids.compactMap { state.pending.removeValue(forKey: $0) }
                return (commands, state.waiters.filter { $0.value.sessionId == sessionId }.map(\.key))
            }
            for command in commands {
                command.timer?.cancel()
                command.continuation.resume(throwing: BrowserError.disconnected(method: command.method, reason: reason))
            }
            for token in waiters {
                completeWaiter(token, .failure(BrowserError.disconnected(method: "waiting for an event", reason: reason)))
            }
        }

        // MARK: I/O

        private func write(_ data: Data) -> Bool {
            writeFD.withLock { fd -> Bool in
                guard let fd else { return false }
                return data.withUnsafeBytes { bytes -> Bool in
                    guard let base = bytes.baseAddress else { return true }
                    var offset = 0
                    while offset < bytes.count {
                        let written = Glibc.write(fd, base + offset, bytes.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            return false
                        }
                        offset += written
                    }
                    return true
                }
            }
        }

        private func readLoop() {
            let chunkSize = 1 << 16
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 1)
            defer {
                chunk.deallocate()
                Glibc.close(readFD)
            }
            var buffer: [UInt8] = []
            while !stopping.load(ordering: .acquiring) {
                var pollDescriptor = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pollDescriptor, 1, 200)
                if ready == 0 || (ready < 0 && errno == EINTR) { continue }
                if ready < 0 { break }
                let count = read(readFD, chunk.baseAddress, chunkSize)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 { break }
                let scanStart = buffer.count
                buffer.append(contentsOf: chunk[0..<count])
                guard buffer[scanStart...].contains(0) else { continue }
                var start = 0
                while let end = buffer[start...].firstIndex(of: 0) {
                    handleMessage(Data(buffer[start..<end]))
                    start = end + 1
                }
                buffer.removeFirst(start)
            }
            let closedByUs = stopping.load(ordering: .acquiring)
            failAll(reason: closedByUs ? "the browser was closed" : "Chromium exited (the DevTools pipe closed)")
        }

        private func handleMessage(_ data: Data) {
            guard let json = try? JSONSerialization.jsonObject(with: data), json is [String: Any] else { return }
            let message = BrowserValue(jsonObject: json)
            if let id = message["id"]?.int {
                if let error = message["error"] {
                    let method = state.withLock { $0.pending[id]?.method } ?? "command"
                    let code = error["code"]?.int ?? 0
                    var text = error["message"]?.string ?? "unknown error"
                    if let detail = error["data"]?.string { text += ": \(detail)" }
                    completeCommand(id, .failure(BrowserError.protocolError(method: method, code: code, message: text)))
                } else {
                    completeCommand(id, .success(message["result"] ?? .object([:])))
                }
            } else if let method = message["method"]?.string {
                dispatchEvent(method: method, sessionId: message["sessionId"]?.string, params: message["params"] ?? .object([:]))
            }
        }

        private func dispatchEvent(method: String, sessionId: String?, params: BrowserValue) {
            switch method {
            case "Page.javascriptDialogOpening":
                // An unanswered alert/confirm/prompt would block the page; accept it.
                Task { _ = try? await self.send("Page.handleJavaScriptDialog", ["accept": true], sessionId: sessionId) }
            case "Inspector.targetCrashed":
                if let sessionId { failSession(sessionId, reason: "the page crashed") }
            case "Target.detachedFromTarget":
                if let detached = params["sessionId"]?.string { failSession(detached, reason: "the page was closed") }
            default:
                break
            }
            let tokens = state.withLock { state in
                state.waiters.filter { $0.value.method == method && $0.value.sessionId == sessionId }.map(\.key)
            }
            for token in tokens { completeWaiter(token, .success(params)) }
        }
    }

    // MARK: - Browser

    /// A headless Chromium process driven over `--remote-debugging-pipe`. Call `close()` when done.
    public final class HeadlessBrowser: Sendable {
        public let processID: pid_t
        public let userDataDirectory: String
        let connection: CDPConnection
        private let closed = Atomic<Bool>(false)

        private init(processID: pid_t, userDataDirectory: String, connection: CDPConnection) {
            self.processID = processID
            self.userDataDirectory = userDataDirectory
            self.connection = connection
        }

        deinit {
            if !closed.exchange(true, ordering: .acquiringAndReleasing) {
                killAndReap()
                connection.shutdown()
                try? FileManager.default.removeItem(atPath: userDataDirectory)
            }
        }

        /// Starts Chromium: `executable` (a path or a name on PATH), else `$CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
        /// `timeout` is the default for every command and event wait. Set `HEADLESS_BROWSER_VERBOSE=1` to see Chromium's output.
        public static func launch(executable: String? = nil, timeout: Duration = .seconds(15)) async throws -> HeadlessBrowser {
            let path = try resolveExecutable(executable)
            // Writing to the pipe of a dead Chromium must fail with EPIPE, not kill the test process.
            signal(SIGPIPE, SIG_IGN)
            let temporary = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
            var template = Array((temporary + "headless-chromium-XXXXXX").utf8CString)
            guard let created = mkdtemp(&template) else {
                throw BrowserError.launchFailed("cannot create a profile directory: \(String(cString: strerror(errno)))")
            }
            let directory = String(cString: created)
            let arguments = [
                path, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                "--user-data-dir=\(directory)", "--window-size=1280,900", "about:blank",
            ]
            let verbose = ProcessInfo.processInfo.environment["HEADLESS_BROWSER_VERBOSE"].map { !$0.isEmpty && $0 != "0" } ?? false
            let spawned: (pid: pid_t, commandFD: Int32, responseFD: Int32)
            do {
                spawned = try spawn(path: path, arguments: arguments, verbose: verbose)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            let connection = CDPConnection(writeFD: spawned.commandFD, readFD: spawned.responseFD, defaultTimeout: timeout)
            let browser = HeadlessBrowser(processID: spawned.pid, userDataDirectory: directory, connection: connection)
            do {
                _ = try await connection.send("Browser.getVersion", timeout: max(timeout, .seconds(30)))
            } catch {
                await browser.close()
                throw BrowserError.launchFailed("\(path) did not answer on the DevTools pipe: \(error)")
            }
            return browser
        }

        /// Sends a browser-level protocol command and returns its result.
        public func command(_ method: String, _ params: [String: BrowserValue] = [:], timeout: Duration? = nil) async throws -> BrowserValue {
            try await connection.send(method, params, timeout: timeout)
        }

        /// Opens a new tab on about:blank with its own session, Page and Runtime domains enabled.
        public func newPage(width: Int = 1280, height: Int = 900) async throws -> BrowserPage {
            let created = try await command("Target.createTarget", ["url": "about:blank"])
            guard let targetId = created["targetId"]?.string else {
                throw BrowserError.unexpectedResponse("Target.createTarget returned \(created)")
            }
            let attached = try await command("Target.attachToTarget", ["targetId": .string(targetId), "flatten": true])
            guard let sessionId = attached["sessionId"]?.string else {
                throw BrowserError.unexpectedResponse("Target.attachToTarget returned \(attached)")
            }
            let page = BrowserPage(browser: self, targetId: targetId, sessionId: sessionId)
            _ = try await page.command("Page.enable")
            _ = try await page.command("Runtime.enable")
            try await page.setViewport(width: width, height: height)
            return page
        }

        /// Asks Chromium to quit, kills what is left of its process group, reaps it and deletes the profile. Idempotent.
        public func close() async {
            guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
            if connection.isConnected {
                _ = try? await connection.send("Browser.close", timeout: .seconds(5))
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while !hasExited() && ContinuousClock.now < deadline && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            killAndReap()
            connection.shutdown()
            try? FileManager.default.removeItem(atPath: userDataDirectory)
        }

        // MARK: Process

        /// True once the child has exited (it is left a zombie, so its pid and process group id are not reused yet).
        private func hasExited() -> Bool {
            var info = siginfo_t()
            if waitid(P_PID, id_t(processID), &info, WEXITED | WNOHANG | WNOWAIT) != 0 { return errno == ECHILD }
            return info._sifields._sigchld.si_pid != 0
        }

        private func killAndReap() {
            kill(-processID, SIGKILL)  // Chromium runs in its own process group: this also takes its helpers.
            kill(processID, SIGKILL)
            var status: Int32 = 0
            while waitpid(processID, &status, 0) < 0 && errno == EINTR {}
        }

        private static func resolveExecutable(_ explicit: String?) throws -> String {
            let environment = ProcessInfo.processInfo.environment
            let candidates: [String]
            if let explicit {
                candidates = [explicit]
            } else if let fromEnvironment = environment["CHROMIUM"], !fromEnvironment.isEmpty {
                candidates = [fromEnvironment]
            } else {
                candidates = ["chromium", "chromium-browser"]
            }
            let searchPath = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
            for candidate in candidates {
                if candidate.contains("/") {
                    if access(candidate, X_OK) == 0 { return candidate }
                    continue
                }
                for directory in searchPath where !directory.isEmpty {
                    let path = directory + "/" + candidate
                    if access(path, X_OK) == 0 { return path }
                }
            }
            throw BrowserError.executableNotFound(candidates.joined(separator: ", "))
        }

        /// `pipe2(O_CLOEXEC)` (not exported by the Glibc module), so that no other child spawned meanwhile inherits the ends.
        private static func makeCloseOnExecPipe(_ fds: inout [Int32]) -> Bool {
            typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
            if let symbol = dlsym(nil, "pipe2") {
                return unsafeBitCast(symbol, to: Pipe2.self)(&fds, O_CLOEXEC) == 0
            }
            guard pipe(&fds) == 0 else { return false }
            fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            return true
        }

        /// Spawns Chromium with a command pipe on its fd 3 and a response pipe on its fd 4, in a new process group.
        private static func spawn(path: String, arguments: [String], verbose: Bool) throws -> (pid: pid_t, commandFD: Int32, responseFD: Int32) {
            func failure(_ what: String, _ code: Int32 = errno) -> BrowserError {
                .launchFailed("\(what): \(String(cString: strerror(code)))")
            }
            var commandPipe: [Int32] = [-1, -1]
            var responsePipe: [Int32] = [-1, -1]
            guard makeCloseOnExecPipe(&commandPipe) else { throw failure("pipe") }
            guard makeCloseOnExecPipe(&responsePipe) else {
                let error = failure("pipe")
                commandPipe.forEach { _ = Glibc.close($0) }
                throw error
            }
            // Keep the child's ends above 4 so that dup2 onto 3 and 4 cannot clobber one with the other.
            let childRead = fcntl(commandPipe[0], F_DUPFD_CLOEXEC, 10)
            let childWrite = fcntl(responsePipe[1], F_DUPFD_CLOEXEC, 10)
            Glibc.close(commandPipe[0])
            Glibc.close(responsePipe[1])
            defer {
                Glibc.close(childRead)
                Glibc.close(childWrite)
            }
            guard childRead >= 0, childWrite >= 0 else {
                let error = failure("fcntl")
                Glibc.close(commandPipe[1])
                Glibc.close(responsePipe[0])
                throw error
            }

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, childRead, 3)
            posix_spawn_file_actions_adddup2(&actions, childWrite, 4)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            if !verbose {
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            }
            // Do not leak the test process's other descriptors (glibc 2.34+; looked up at run time).
            typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
                _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 5)
            }

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            posix_spawnattr_setsigmask(&attributes, &noSignals)
            var defaultSignals = sigset_t()
            sigemptyset(&defaultSignals)
            for signal in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, signal) }
            posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
            guard result == 0 else {
                Glibc.close(commandPipe[1])
                Glibc.close(responsePipe[0])
                throw failure("posix_spawn \(path)", result)
            }
            return (pid, commandPipe[1], responsePipe[0])
        }
    }

    // MARK: - Page

    /// One tab, attached with its own flat session. All methods are safe to call from any task.
    public final class BrowserPage: Sendable {
        public let browser: HeadlessBrowser
        public let targetId: String
        public let sessionId: String
        private let networkEnabled = Mutex(false)

        init(browser: HeadlessBrowser, targetId: String, sessionId: String) {
            self.browser = browser
            self.targetId = targetId
            self.sessionId = sessionId
        }

        private var connection: CDPConnection { browser.connection }

        /// Sends a protocol command on this page's session and returns its result.
        public func command(_ method: String, _ params: [String: BrowserValue] = [:], timeout: Duration? = nil) async throws -> BrowserValue {
            try await connection.send(method, params, sessionId: sessionId, timeout: timeout)
        }

        /// Navigates and waits for the load event, all within `timeout` (default: the browser's command timeout).
        /// Throws if the navigation fails (e.g. connection refused); HTTP error statuses are not failures.
        public func goto(_ url: String, timeout: Duration? = nil) async throws {
            let timeout = timeout ?? connection.defaultTimeout
            let deadline = ContinuousClock.now + timeout
            let token = connection.registerWaiter(method: "Page.loadEventFired", sessionId: sessionId)
            let result: BrowserValue
            do {
                // Page.navigate itself answers only once the response has arrived.
                result = try await command("Page.navigate", ["url": .string(url)], timeout: timeout)
            } catch BrowserError.timeout {
                connection.cancelWaiter(token)
                throw BrowserError.timeout("the response from \(url)", timeout)
            } catch {
                connection.cancelWaiter(token)
                throw error
            }
            if let errorText = result["errorText"]?.string, !errorText.isEmpty {
                connection.cancelWaiter(token)
                throw BrowserError.navigationFailed(url: url, reason: errorText)
            }
            guard result["loaderId"] != nil else {
                connection.cancelWaiter(token)  // Same-document navigation (a fragment): there is no load event.
                return
            }
            do {
                _ = try await connection.waitForEvent(token, timeout: max(deadline - ContinuousClock.now, .zero))
            } catch BrowserError.timeout {
                throw BrowserError.timeout("the load event of \(url)", timeout)
            }
        }

        /// Registers a load waiter, runs `action` (say, a click that submits a form), then waits for the load event.
        public func waitForNavigation<T>(
            timeout: Duration? = nil, isolation: isolated (any Actor)? = #isolation, _ action: () async throws -> T
        ) async throws -> T {
            let token = connection.registerWaiter(method: "Page.loadEventFired", sessionId: sessionId)
            let value: T
            do {
                value = try await action()
            } catch {
                connection.cancelWaiter(token)
                throw error
            }
            do {
                _ = try await connection.waitForEvent(token, timeout: timeout)
            } catch BrowserError.timeout(_, let duration) {
                throw BrowserError.timeout("a page load (Page.loadEventFired) after the action", duration)
            }
            return value
        }

        /// Evaluates `expression` in the page (awaiting promises) and returns its value; throws on JavaScript exceptions.
        public func evaluate(_ expression: String) async throws -> BrowserValue {
            try await evaluate(expression, timeout: nil)
        }

        private func evaluate(_ expression: String, timeout: Duration?) async throws -> BrowserValue {
            let params: [String: BrowserValue] = ["expression": .string(expression), "returnByValue": true, "awaitPromise": true]
            let response = try await command("Runtime.evaluate", params, timeout: timeout)
            if let details = response["exceptionDetails"] {
                let text = details["text"]?.string ?? "Uncaught"
                guard let description = details["exception"]?["description"]?.string ?? details["exception"]?["value"]?.description else {
                    throw BrowserError.javaScriptException(text)
                }
                // A rejection's text already holds the message line ("Uncaught (in promise) TypeError: nope").
                let lines = description.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
                let message = text.hasSuffix(String(lines[0])) && lines.count > 1 ? "\(text)\n\(lines[1])" : "\(text) \(description)"
                throw BrowserError.javaScriptException(message)
            }
            guard let result = response["result"] else { return .null }
            if let value = result["value"] { return value }
            if let unserializable = result["unserializableValue"]?.string {
                return Double(unserializable).map(BrowserValue.number) ?? .string(unserializable)
            }
            return .null
        }

        /// The trimmed `textContent` of the first element matching `cssSelector`, or nil if none does.
        public func text(_ cssSelector: String) async throws -> String? {
            let selector = Self.javaScriptString(cssSelector)
            return try await evaluate("(() => { const e = document.querySelector(\(selector)); return e ? e.textContent.trim() : null; })()").string
        }

        /// The trimmed `textContent` of every element matching `cssSelector`.
        public func texts(_ cssSelector: String) async throws -> [String] {
            let selector = Self.javaScriptString(cssSelector)
            let value = try await evaluate("Array.from(document.querySelectorAll(\(selector)), e => e.textContent.trim())")
            return value.array?.compactMap(\.string) ?? []
        }

        /// The attribute `name` of the first element matching `selector`; nil if there is no such element or attribute.
        public func attribute(_ selector: String, _ name: String) async throws -> String? {
            let expression =
                "(() => { const e = document.querySelector(\(Self.javaScriptString(selector))); "
                + "return e ? e.getAttribute(\(Self.javaScriptString(name))) : null; })()"
            return try await evaluate(expression).string
        }

        /// Scrolls the first match into view and clicks the centre of its box with real mouse events.
        public func click(_ selector: String) async throws {
            let expression = """
                (() => {
                    const e = document.querySelector(\(Self.javaScriptString(selector)));
                    if (!e) return null;
                    e.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
                    const r = e.getBoundingClientRect();
                    return { x: r.left + r.width / 2, y: r.top + r.height / 2, width: r.width, height: r.height };
                })()
                """
            let box = try await evaluate(expression)
            guard let x = box["x"]?.number, let y = box["y"]?.number else { throw BrowserError.elementNotFound(selector) }
            guard (box["width"]?.number ?? 0) > 0, (box["height"]?.number ?? 0) > 0 else { throw BrowserError.elementNotVisible(selector) }
            let position: [String: BrowserValue] = ["x": .number(x), "y": .number(y)]
            _ = try await command("Input.dispatchMouseEvent", position.merging(["type": "mouseMoved"]) { $1 })
            let press: [String: BrowserValue] = ["type": "mousePressed", "button": "left", "buttons": 1, "clickCount": 1]
            _ = try await command("Input.dispatchMouseEvent", position.merging(press) { $1 })
            let release: [String: BrowserValue] = ["type": "mouseReleased", "button": "left", "buttons": 0, "clickCount": 1]
            _ = try await command("Input.dispatchMouseEvent", position.merging(release) { $1 })
        }

        /// Inserts `text` into the focused element, as an IME would (no key events).
        public func type(_ text: String) async throws {
            _ = try await command("Input.insertText", ["text": .string(text)])
        }

        /// Presses and releases one key: "Tab", "Enter", " " (or "Space"), "Escape", "Backspace", "Delete", "Home", "End",
        /// "PageUp", "PageDown", "ArrowLeft/Up/Right/Down", or a single letter or digit. `shift: true` holds Shift (Shift+Tab).
        public func press(_ key: String, shift: Bool = false) async throws {
            guard let definition = Self.keyDefinition(key) else { throw BrowserError.unsupportedKey(key) }
            var down: [String: BrowserValue] = [
                "type": definition.text == nil ? "rawKeyDown" : "keyDown", "key": .string(definition.key), "code": .string(definition.code),
                "windowsVirtualKeyCode": .number(Double(definition.keyCode)),
                "nativeVirtualKeyCode": .number(Double(definition.keyCode)), "modifiers": shift ? 8 : 0,
            ]
            if let text = definition.text {
                down["text"] = .string(text)
                down["unmodifiedText"] = .string(text)
            }
            _ = try await command("Input.dispatchKeyEvent", down)
            var up = down
            up["type"] = "keyUp"
            up["text"] = nil
            up["unmodifiedText"] = nil
            _ = try await command("Input.dispatchKeyEvent", up)
        }

        /// Describes `document.activeElement`: `tag#id`, else `tag[name="…"]` (plus `[value="…"]` for radios and checkboxes),
        /// else `tag "label or text"`; `body` when nothing is focused.
        public func focusedElementDescription() async throws -> String {
            let expression = """
                (() => {
                    const e = document.activeElement;
                    if (!e) return 'none';
                    if (e === document.body) return 'body';
                    const tag = e.tagName.toLowerCase();
                    if (e.id) return tag + '#' + e.id;
                    const name = e.getAttribute('name');
                    if (name) {
                        const checkable = e.type === 'radio' || e.type === 'checkbox';
                        return tag + '[name="' + name + '"]' + (checkable ? '[value="' + e.value + '"]' : '');
                    }
                    const label = e.getAttribute('aria-label') || (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
                    return label ? tag + ' "' + label + '"' : tag;
                })()
                """
            return try await evaluate(expression).string ?? "none"
        }

        /// Polls every 50 ms until `jsCondition` (an expression, possibly a promise) is truthy.
        /// Evaluation errors count as "not yet" (the page may be navigating); the last one is reported on timeout.
        public func waitUntil(_ jsCondition: String, timeout: Duration = .seconds(10)) async throws {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            let expression = "(async () => !!(await (\n\(jsCondition)\n)))()"
            var lastError: String?
            while true {
                let remaining = max(deadline - clock.now, .milliseconds(200))
                do {
                    if try await evaluate(expression, timeout: min(remaining, connection.defaultTimeout)).bool == true { return }
                } catch let error as BrowserError {
                    if case .disconnected = error { throw error }
                    lastError = error.description
                }
                if clock.now >= deadline { throw BrowserError.conditionTimeout(jsCondition, timeout, lastError: lastError) }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        /// Writes a PNG of the viewport, or of the whole page (viewport width × content height) when `fullPage`.
        public func screenshot(to path: String, fullPage: Bool = true) async throws {
            // Without a clip, captureBeyondViewport would capture the whole page.
            var params: [String: BrowserValue] = ["format": "png", "captureBeyondViewport": .bool(fullPage)]
            if fullPage {
                let metrics = try await command("Page.getLayoutMetrics")
                let content = metrics["cssContentSize"] ?? metrics["contentSize"]
                let viewport = metrics["cssLayoutViewport"] ?? metrics["layoutViewport"]
                guard let width = viewport?["clientWidth"]?.number, let height = content?["height"]?.number else {
                    throw BrowserError.unexpectedResponse("Page.getLayoutMetrics returned \(metrics)")
                }
                params["clip"] = ["x": 0, "y": 0, "width": .number(width.rounded(.up)), "height": .number(height.rounded(.up)), "scale": 1]
            }
            let result = try await command("Page.captureScreenshot", params, timeout: max(connection.defaultTimeout, .seconds(30)))
            guard let encoded = result["data"]?.string, let data = Data(base64Encoded: encoded) else {
                throw BrowserError.unexpectedResponse("Page.captureScreenshot returned no image data")
            }
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        }

        /// Prints the page as Chromium's print dialog would (print CSS, `@page` rules) on paper of
        /// `paperWidth` × `paperHeight` inches, without header and footer; returns the PDF.
        public func printToPDF(paperWidth: Double, paperHeight: Double) async throws -> Data {
            let params: [String: BrowserValue] = [
                "paperWidth": .number(paperWidth), "paperHeight": .number(paperHeight), "printBackground": true,
                "displayHeaderFooter": false, "preferCSSPageSize": false,
            ]
            let result = try await command("Page.printToPDF", params, timeout: max(connection.defaultTimeout, .seconds(30)))
            guard let encoded = result["data"]?.string, let data = Data(base64Encoded: encoded) else {
                throw BrowserError.unexpectedResponse("Page.printToPDF returned no data")
            }
            return data
        }

        /// The number of pages of a PDF that Chromium wrote (its page objects, `/Type /Page`).
        public static func pdfPageCount(_ pdf: Data) -> Int {
            let text = String(decoding: pdf, as: UTF8.self)
            return text.components(separatedBy: "/Type /Page").count - 1 - (text.components(separatedBy: "/Type /Pages").count - 1)
        }

        /// The cookies visible to the current page, HttpOnly ones included (keys: name, value, domain, path, httpOnly, …).
        public func cookies() async throws -> [[String: BrowserValue]] {
            if !networkEnabled.withLock({ $0 }) {
                _ = try await command("Network.enable")
                networkEnabled.withLock { $0 = true }
            }
            let result = try await command("Network.getCookies")
            return result["cookies"]?.array?.compactMap(\.object) ?? []
        }

        public func setViewport(width: Int, height: Int) async throws {
            let params: [String: BrowserValue] = [
                "width": .number(Double(width)), "height": .number(Double(height)), "deviceScaleFactor": 1, "mobile": false,
            ]
            _ = try await command("Emulation.setDeviceMetricsOverride", params)
        }

        /// Closes this tab.
        public func close() async throws {
            _ = try await browser.command("Target.closeTarget", ["targetId": .string(targetId)])
        }

        // MARK: Helpers

        /// A JavaScript string literal for `value`.
        static func javaScriptString(_ value: String) -> String {
            var literal = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": literal += "\\\""
                case "\\": literal += "\\\\"
                case "\n": literal += "\\n"
                case "\r": literal += "\\r"
                case "\t": literal += "\\t"
                case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                    let hex = String(scalar.value, radix: 16)
                    literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: literal.unicodeScalars.append(scalar)
                }
            }
            return literal + "\""
        }

        private struct KeyDefinition {
            let key: String
            let code: String
            let keyCode: Int
            var text: String? = nil
        }

        private static func keyDefinition(_ key: String) -> KeyDefinition? {
            switch key {
            case "Tab": return KeyDefinition(key: "Tab", code: "Tab", keyCode: 9)
            case "Enter": return KeyDefinition(key: "Enter", code: "Enter", keyCode: 13, text: "\r")
            case " ", "Space": return KeyDefinition(key: " ", code: "Space", keyCode: 32, text: " ")
            case "Escape": return KeyDefinition(key: "Escape", code: "Escape", keyCode: 27)
            case "Backspace": return KeyDefinition(key: "Backspace", code: "Backspace", keyCode: 8)
            case "Delete": return KeyDefinition(key: "Delete", code: "Delete", keyCode: 46)
            case "PageUp": return KeyDefinition(key: "PageUp", code: "PageUp", keyCode: 33)
            case "PageDown": return KeyDefinition(key: "PageDown", code: "PageDown", keyCode: 34)
            case "End": return KeyDefinition(key: "End", code: "End", keyCode: 35)
            case "Home": return KeyDefinition(key: "Home", code: "Home", keyCode: 36)
            case "ArrowLeft": return KeyDefinition(key: "ArrowLeft", code: "ArrowLeft", keyCode: 37)
            case "ArrowUp": return KeyDefinition(key: "ArrowUp", code: "ArrowUp", keyCode: 38)
            case "ArrowRight": return KeyDefinition(key: "ArrowRight", code: "ArrowRight", keyCode: 39)
            case "ArrowDown": return KeyDefinition(key: "ArrowDown", code: "ArrowDown", keyCode: 40)
            default:
                guard key.unicodeScalars.count == 1, let scalar = key.unicodeScalars.first, scalar.isASCII else { return nil }
                let character = Character(scalar)
                if character.isLetter {
                    let upper = character.uppercased()
                    let keyCode = upper.unicodeScalars.first.map { Int($0.value) } ?? 0
                    return KeyDefinition(key: key, code: "Key" + upper, keyCode: keyCode, text: key)
                }
                if character.isNumber {
                    return KeyDefinition(key: key, code: "Digit" + key, keyCode: Int(scalar.value), text: key)
                }
                return nil
            }
        }
    }
#endif
