import Foundation

/// Runs a profile's fault command with `/bin/sh -c`, output captured to a temporary file, with a timeout.
enum ShellCommand {
    final class Box: @unchecked Sendable {
        let process = Process()
    }

    static func run(_ command: String, timeoutSeconds: Double, phaseStartNs: UInt64) async -> CommandReport {
        let startNs = monotonicNanos()
        let startedAt = Double(Int64(startNs) - Int64(phaseStartNs)) / 1e9
        let outputPath = NSTemporaryDirectory() + "prpm-loadtest-cmd-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        guard let output = FileHandle(forWritingAtPath: outputPath) else {
            return CommandReport(command: command, exitCode: nil, startedAtS: startedAt, durationS: 0, timedOut: false, outputTail: "no temp file")
        }
        let box = Box()
        box.process.executableURL = URL(fileURLWithPath: "/bin/sh")
        box.process.arguments = ["-c", command]
        box.process.standardOutput = output
        box.process.standardError = output
        box.process.standardInput = FileHandle.nullDevice
        let timedOut = TimeoutFlag()
        let watchdog = Task {
            try await Task.sleep(nanoseconds: UInt64(timeoutSeconds * 1e9))
            if box.process.isRunning {
                timedOut.set()
                box.process.terminate()
            }
        }
        defer { watchdog.cancel() }
        let status: Int32? = await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
            box.process.terminationHandler = { process in continuation.resume(returning: process.terminationStatus) }
            do {
                try box.process.run()
            } catch {
                box.process.terminationHandler = nil
                continuation.resume(returning: nil)
                return
            }
        }
        try? output.close()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return CommandReport(
            command: command,
            exitCode: status,
            startedAtS: (startedAt * 1000).rounded() / 1000,
            durationS: (Double(monotonicNanos() - startNs) / 1e6).rounded() / 1000,
            timedOut: timedOut.value,
            outputTail: String(text.suffix(500))
        )
    }

    final class TimeoutFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        func set() { lock.withLock { flag = true } }
        var value: Bool { lock.withLock { flag } }
    }
}
