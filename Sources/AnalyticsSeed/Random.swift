import Foundation

/// SplitMix64: turns any 64-bit seed into well-mixed values; used to seed the generators.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed value of two inputs (stream derivation).
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: a ^ (b &* 0xD1B5_4A32_D192_ED03))
        _ = generator.next()
        return generator.next()
    }
}

/// xoshiro256**: the seeder's generator. Same seed → same sequence on every platform
/// (no use of the system random source, no floating-point differences: doubles are made
/// from the top 53 bits).
struct Xoshiro256: RandomNumberGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    /// An independent stream for one purpose (`stream`) and one part (`index`, e.g. a block of rows).
    init(seed: UInt64, stream: UInt64, index: UInt64 = 0) {
        self.init(seed: SplitMix64.mix(SplitMix64.mix(seed, stream), index))
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in 0..<bound (Lemire's multiply-shift; the tiny bias is irrelevant here and it is deterministic).
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// Uniform in the closed range.
    @inline(__always)
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    @inline(__always)
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// A standard normal deviate (Box–Muller, one of the pair).
    mutating func normal() -> Double {
        let u1 = 1.0 - unit()  // (0, 1]
        let u2 = unit()
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// A log-normal value with the given median and shape (sigma of the underlying normal).
    mutating func logNormal(median: Double, sigma: Double) -> Double { median * exp(sigma * normal()) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher–Yates shuffle driven by this generator.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}

/// Sampling from a discrete distribution: a cumulative table and a binary search.
struct DiscreteDistribution: Sendable {
    /// Cumulative weights, normalized so the last one is 1.
    let cumulative: [Double]

    init(weights: [Double]) {
        precondition(!weights.isEmpty)
        var running = 0.0
        var cumulative = [Double]()
        cumulative.reserveCapacity(weights.count)
        for weight in weights {
            running += max(weight, 0)
            cumulative.append(running)
        }
        precondition(running > 0)
        self.cumulative = cumulative.map { $0 / running }
    }

    /// Zipf over `count` ranks: rank k (1-based) has weight 1/k^s. Index 0 is rank 1.
    static func zipf(count: Int, exponent: Double) -> DiscreteDistribution {
        DiscreteDistribution(weights: (1...count).map { 1.0 / pow(Double($0), exponent) })
    }

    var count: Int { cumulative.count }

    /// The probability of index `i`.
    func probability(_ i: Int) -> Double { i == 0 ? cumulative[0] : cumulative[i] - cumulative[i - 1] }

    /// The first index whose cumulative weight exceeds `u` (u in [0, 1)).
    @inline(__always)
    func index(for u: Double) -> Int {
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) >> 1
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low
    }

    @inline(__always)
    func sample(_ random: inout Xoshiro256) -> Int { index(for: random.unit()) }
}

/// Deterministic UUIDs from the generator, with the version-4 / RFC 4122 variant bit layout,
/// kept as their 36-byte lower-case text (the form COPY and JSON need).
struct SeedUUID: Sendable, Hashable {
    /// 36 ASCII bytes, e.g. `0f8e…-…`.
    let text: [UInt8]

    init(_ random: inout Xoshiro256) {
        var text = [UInt8]()
        text.reserveCapacity(36)
        appendRandomUUID(&random, to: &text)
        self.text = text
    }

    var string: String { String(decoding: text, as: UTF8.self) }
}

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Writes a random version-4 UUID's text straight into a buffer (the hot path of the usage rows).
@inline(__always)
func appendRandomUUID(_ random: inout Xoshiro256, to buffer: inout [UInt8]) {
    let a = random.next()
    let b = random.next()
    // Version nibble (byte 6 high nibble) = 4, variant (byte 8 top bits) = 10.
    let hi = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
    let lo = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    for nibble in 0..<16 {
        if nibble == 8 || nibble == 12 { buffer.append(UInt8(ascii: "-")) }
        buffer.append(hexDigits[Int((hi >> (60 - 4 * UInt64(nibble))) & 0xF)])
    }
    for nibble in 0..<16 {
        if nibble == 0 || nibble == 4 { buffer.append(UInt8(ascii: "-")) }
        buffer.append(hexDigits[Int((lo >> (60 - 4 * UInt64(nibble))) & 0xF)])
    }
}
