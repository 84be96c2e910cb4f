import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a profile's fault command with `/bin/sh -c`, output captured to a temporary file, with a timeout.
///
/// Uses `posix_spawn` + `waitpid` polling rather than Foundation's `Process`: a command that starts a daemon
/// (`Scripts/svc redis start`) leaves a grandchild running, and `Process` on Linux waits for every inherited descriptor
/// to close, so it would never report the exit. The child gets only stdin (/dev/null) and stdout/stderr (the log).
enum ShellCommand {
    static func run(_ command: String, timeoutSeconds: Double, phaseStartNs: UInt64) async -> CommandReport {
        let startNs = monotonicNanos()
        let startedAt = (Double(Int64(startNs) - Int64(phaseStartNs)) / 1e6).rounded() / 1000
        let outputPath = NSTemporaryDirectory() + "prpm-loadtest-cmd-\(UUID().uuidString).log"
        defer { unlink(outputPath) }
        func report(_ status: Int32?, timedOut: Bool, output: String) -> CommandReport {
            CommandReport(
                command: command, exitCode: status, startedAtS: startedAt,
                durationS: (Double(monotonicNanos() - startNs) / 1e6).rounded() / 1000, timedOut: timedOut, outputTail: String(output.suffix(500))
            )
        }
        guard let pid = spawn(command, outputPath: outputPath) else {
            return report(nil, timedOut: false, output: "cannot start /bin/sh: errno \(errno)")
        }
        var status: Int32 = 0
        var timedOut = false
        var termSentNs: UInt64?
        let deadline = startNs + UInt64(timeoutSeconds * 1e9)
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno != EINTR) { break }
            let now = monotonicNanos()
            if now >= deadline && termSentNs == nil {
                timedOut = true
                termSentNs = now
                kill(pid, SIGTERM)
            } else if let sent = termSentNs, now >= sent + 5_000_000_000 {
                kill(pid, SIGKILL)
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return report(exitCode, timedOut: timedOut, output: output)
    }

    private static func spawn(_ command: String, outputPath: String) -> pid_t? {
        #if os(Linux)
            var actions = posix_spawn_file_actions_t()
        #else
            var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Our sockets are not close-on-exec: keep them out of the child (a daemon it starts would hold them open).
        // glibc ignores EBADF for descriptors closed meanwhile (such as the directory listing's own).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let args = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ)
        return rc == 0 ? pid : nil
    }
}

extension CommandReport {
    var summaryLine: String {
        let status = timedOut ? "timed out" : (exitCode.map { "exit \($0)" } ?? "did not start")
        return "\(status) after \(durationS) s" + (exitCode == 0 ? "" : "; output: \(outputTail.suffix(200))")
    }
}
