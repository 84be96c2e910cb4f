import Settings
import Testing

@Suite("Settings from the environment")
struct EnvironmentReaderTests {
    @Test func validValuesAreTypedAndAbsentOnesAreNil() throws {
        var env = EnvironmentReader(["PORT": " 8081", "RATE": "2.5", "LAG_S": "0.25", "LEVEL": "debug", "JOBS": "a, b"])
        #expect(env.int("PORT", in: 0...65535) == 8081)
        #expect(env.double("RATE") == 2.5)
        #expect(env.seconds("LAG_S") == .milliseconds(250))
        #expect(env.choice("LEVEL", ["info", "debug"]) == "debug")
        #expect(env.list("JOBS", of: ["a", "b", "c"]) == ["a", "b"])
        #expect(env.int("MISSING") == nil && env.string("MISSING") == nil)
        try env.validate()
    }

    @Test func everyBadValueIsNamedAndNoneIsReplacedByADefault() {
        var env = EnvironmentReader([
            "PORT": "abc", "CACHE_TTL_PACKAGE_S": "-5", "RATE": "fast", "LEVEL": "loud", "JOBS": "a,zz", "POOL": "70000",
            "LAG_S": "nan",
        ])
        #expect(env.int("PORT", in: 0...65535) == nil)
        #expect(env.int("CACHE_TTL_PACKAGE_S", in: 1...Int.max) == nil)
        #expect(env.double("RATE") == nil)
        #expect(env.choice("LEVEL", ["info"]) == nil)
        #expect(env.list("JOBS", of: ["a"]) == nil)
        #expect(env.int("POOL", in: 1...1000) == nil)
        #expect(env.seconds("LAG_S") == nil)
        #expect(
            env.problems == [
                #"PORT="abc": expected an integer from 0 to 65535"#, #"CACHE_TTL_PACKAGE_S="-5": expected an integer ≥ 1"#,
                #"RATE="fast": expected a number"#, #"LEVEL="loud": expected one of info"#, #"JOBS="a,zz": unknown zz (known: a)"#,
                #"POOL="70000": expected an integer from 1 to 1000"#, #"LAG_S="nan": expected a number ≥ 0.0"#,
            ])
        #expect(throws: SettingsError.self) { try env.validate() }
        do {
            try env.validate()
        } catch {
            #expect(error.description.hasPrefix("invalid settings:\n  PORT=\"abc\""))
        }
    }
}
