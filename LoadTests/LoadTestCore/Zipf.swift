/// A small, fast, seedable PRNG (xoshiro256**, seeded through SplitMix64). Deterministic for a given seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&x)
        s1 = splitMix(&x)
        s2 = splitMix(&x)
        s3 = splitMix(&x)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in 0..<upperBound (upperBound > 0).
    @inline(__always)
    public mutating func nextInt(_ upperBound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(upperBound)).high)
    }
}

/// Samples ranks 0..<n with P(rank k) ∝ 1/(k+1)^s (Zipf). Inverse-CDF with binary search: O(log n) per sample.
public struct ZipfSampler: Sendable {
    public let count: Int
    public let exponent: Double
    private let cdf: [Double]

    public init(count: Int, exponent: Double) {
        precondition(count > 0, "Zipf over an empty set")
        self.count = count
        self.exponent = exponent
        var cdf = [Double](repeating: 0, count: count)
        var total = 0.0
        for k in 0..<count {
            total += 1.0 / pow(Double(k + 1), exponent)
            cdf[k] = total
        }
        for k in 0..<count { cdf[k] /= total }
        cdf[count - 1] = 1.0
        self.cdf = cdf
    }

    /// The exact probability of rank `k` (0-based).
    public func probability(ofRank k: Int) -> Double {
        k == 0 ? cdf[0] : cdf[k] - cdf[k - 1]
    }

    @inline(__always)
    public func sample(using rng: inout SeededRandom) -> Int {
        let u = rng.nextUnit()
        var lo = 0
        var hi = count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if cdf[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// Picks an index with probability proportional to integer weights.
public struct WeightedPicker: Sendable {
    private let cumulative: [Int]
    public let total: Int

    public init(weights: [Int]) {
        var sum = 0
        cumulative = weights.map { weight in
            sum += Swift.max(0, weight)
            return sum
        }
        total = sum
    }

    @inline(__always)
    public func pick(using rng: inout SeededRandom) -> Int {
        let r = rng.nextInt(total)
        var i = 0
        while cumulative[i] <= r { i += 1 }
        return i
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
