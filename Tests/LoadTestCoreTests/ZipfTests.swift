import Testing

@testable import LoadTestCore

@Suite("Zipf sampler and PRNG")
struct ZipfTests {
    @Test("exact probabilities are proportional to 1/k^s")
    func probabilities() {
        let zipf = ZipfSampler(count: 50, exponent: 1.0)
        #expect(abs(zipf.probability(ofRank: 0) / zipf.probability(ofRank: 3) - 4) < 1e-9)
        let steep = ZipfSampler(count: 50, exponent: 2.0)
        #expect(abs(steep.probability(ofRank: 0) / steep.probability(ofRank: 2) - 9) < 1e-9)
        let total = (0..<50).reduce(0.0) { $0 + zipf.probability(ofRank: $1) }
        #expect(abs(total - 1) < 1e-9)
    }

    @Test("rank frequencies over 200k samples follow 1/k^s", arguments: [1.0, 0.8, 1.3])
    func frequencies(s: Double) {
        let n = 100
        let zipf = ZipfSampler(count: n, exponent: s)
        var rng = SeededRandom(seed: 42)
        let samples = 200_000
        var counts = [Int](repeating: 0, count: n)
        for _ in 0..<samples { counts[zipf.sample(using: &rng)] += 1 }
        // Relative error on the head, where counts are large enough for a tight bound.
        for k in 0..<10 {
            let expected = zipf.probability(ofRank: k) * Double(samples)
            let observed = Double(counts[k])
            #expect(abs(observed - expected) / expected < 0.05, "rank \(k + 1): observed \(observed), expected \(expected)")
        }
        // Ratios follow the power law: f(1)/f(k) ≈ k^s.
        let ratio = Double(counts[0]) / Double(counts[9])
        #expect(abs(ratio - pow(10, s)) / pow(10, s) < 0.1)
        // Chi-square over all ranks stays far below a gross-misfit level (df = 99; 99.9% quantile ≈ 149).
        var chi2 = 0.0
        for k in 0..<n {
            let expected = zipf.probability(ofRank: k) * Double(samples)
            chi2 += pow(Double(counts[k]) - expected, 2) / expected
        }
        #expect(chi2 < 149)
    }

    @Test("deterministic for a seed, different across seeds")
    func determinism() {
        let zipf = ZipfSampler(count: 1000, exponent: 1.0)
        func draw(_ seed: UInt64) -> [Int] {
            var rng = SeededRandom(seed: seed)
            return (0..<64).map { _ in zipf.sample(using: &rng) }
        }
        #expect(draw(7) == draw(7))
        #expect(draw(7) != draw(8))
        var rng = SeededRandom(seed: 1)
        let ints = (0..<10_000).map { _ in rng.nextInt(10) }
        #expect(ints.allSatisfy { (0..<10).contains($0) })
        #expect(Set(ints).count == 10)
    }

    @Test("s = 0 is uniform; a single package always wins")
    func edgeCases() {
        let uniform = ZipfSampler(count: 4, exponent: 0)
        for k in 0..<4 { #expect(abs(uniform.probability(ofRank: k) - 0.25) < 1e-12) }
        let one = ZipfSampler(count: 1, exponent: 1)
        var rng = SeededRandom(seed: 3)
        #expect((0..<100).allSatisfy { _ in one.sample(using: &rng) == 0 })
    }

    @Test("weighted scenario picks follow the mix weights")
    func weightedPicker() {
        let picker = WeightedPicker(weights: [60, 15, 10, 5, 5, 5])
        var rng = SeededRandom(seed: 9)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<100_000 { counts[picker.pick(using: &rng)] += 1 }
        #expect(abs(Double(counts[0]) / 100_000 - 0.60) < 0.01)
        #expect(abs(Double(counts[1]) / 100_000 - 0.15) < 0.01)
        #expect(abs(Double(counts[5]) / 100_000 - 0.05) < 0.01)
        let skipZero = WeightedPicker(weights: [0, 3, 0, 1])
        for _ in 0..<1000 { #expect([1, 3].contains(skipZero.pick(using: &rng))) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
