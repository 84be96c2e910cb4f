import Foundation

/// Hands blocks of generated rows from producer threads to one consumer, in block order,
/// with at most `window` blocks generated ahead of the consumer (bounded memory).
final class BlockPipeline: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: UsageBlock] = [:]
    private var nextToTake = 0
    private var nextToClaim = 0
    private var cancelled = false
    private var running = 0
    let total: Int
    let window: Int

    init(total: Int, window: Int) {
        self.total = total
        self.window = window
    }

    /// Starts `threads` producer threads that generate blocks with `make`.
    func start(threads: Int, _ make: @escaping @Sendable (Int) -> UsageBlock) {
        condition.lock()
        running = threads
        condition.unlock()
        for number in 0..<threads {
            let thread = Thread { [self] in
                while let index = claim() { deliver(make(index)) }
                condition.lock()
                running -= 1
                condition.broadcast()
                condition.unlock()
            }
            thread.name = "seed-generator-\(number)"
            thread.start()
        }
    }

    /// The next block index to generate; nil when all are claimed or the pipeline was cancelled.
    private func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, nextToClaim < total, nextToClaim >= nextToTake + window { condition.wait() }
        guard !cancelled, nextToClaim < total else { return nil }
        defer { nextToClaim += 1 }
        return nextToClaim
    }

    private func deliver(_ block: UsageBlock) {
        condition.lock()
        ready[block.index] = block
        condition.broadcast()
        condition.unlock()
    }

    /// The next block in order; nil after the last one (or after `cancel`).
    func take() -> UsageBlock? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, nextToTake < total, ready[nextToTake] == nil { condition.wait() }
        guard !cancelled, nextToTake < total else { return nil }
        let block = ready.removeValue(forKey: nextToTake)
        nextToTake += 1
        condition.broadcast()
        return block
    }

    /// Stops the producers and waits for them to exit.
    func finish(cancel: Bool) {
        condition.lock()
        if cancel { cancelled = true }
        condition.broadcast()
        while running > 0 { condition.wait() }
        ready = [:]
        condition.unlock()
    }
}
