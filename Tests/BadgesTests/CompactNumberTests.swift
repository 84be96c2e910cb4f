import Testing

@testable import Badges

@Suite("CompactNumber")
struct CompactNumberTests {
    @Test(
        "formats counts at the unit boundaries",
        arguments: [
            (0, "0"), (1, "1"), (999, "999"),
            (1_000, "1k"), (1_049, "1k"), (1_050, "1.1k"), (1_234, "1.2k"), (9_949, "9.9k"), (9_950, "10k"),
            (12_345, "12k"), (99_500, "100k"), (123_456, "123k"), (999_499, "999k"), (999_500, "1M"), (999_950, "1M"),
            (1_000_000, "1M"), (1_234_567, "1.2M"), (3_450_000, "3.5M"), (999_999_999, "1B"),
            (1_200_000_000, "1.2B"), (2_500_000_000, "2.5B"), (1_000_000_000_000, "1T"), (12_345_000_000_000_000, "12345T"),
        ]
    )
    func boundaries(value: Int, expected: String) {
        #expect(CompactNumber.format(value) == expected)
    }

    @Test("negative values keep their sign; extremes do not trap")
    func negativeAndExtremes() {
        #expect(CompactNumber.format(-1_250) == "-1.3k")
        #expect(CompactNumber.format(-999) == "-999")
        #expect(CompactNumber.format(Int.max) == "9223372T")
        #expect(CompactNumber.format(Int.min) == "-9223372T")
    }
}
