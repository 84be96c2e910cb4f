import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 27 item 1: a package is named by its canonical id or its exact name before anything
/// is looked up or kept; anything else is 404 and leaves nothing behind.
@Suite("Package identity at the edge", .serialized)
struct PackageIdentityTests {
    static func refKeys(_ deps: AppDependencies, _ pattern: String) async throws -> [String] {
        try await deps.redis.command("KEYS", RedisKeyspace.packageRef(pattern)).array?.compactMap(\.string) ?? []
    }

    @Test func badSpellingsAre404BeforeAnyLookupOrKey() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let package = try await f.package("identity-reviewer")
            let digest = try await f.databaseDigest()
            let hostile = [
                "\(package.name)%00junk", "\(package.name)%01", "identity-%0Areviewer", "\(package.name)%7F",
                String(repeating: "a", count: PackageIdentity.maxNameLength + 1), "%00",
            ]
            for name in hostile {
                let answer = try await client.get("/api/v1/analytics/package/\(name)?days=7")
                #expect(answer.status == .notFound, "\(name.prefix(40))")
                #expect(answer.errorCode == "not_found")
                #expect(try await client.get("/packages/\(name)").status == .notFound)
            }
            #expect(try await Self.refKeys(deps, "identity-*").isEmpty)
            #expect(try await Self.refKeys(deps, "aaaa*").isEmpty)
            // The longest name allowed is looked up (and not found: nothing kept in Redis either).
            let longest = String(repeating: "b", count: PackageIdentity.maxNameLength)
            #expect(try await client.get("/api/v1/analytics/package/\(longest)").status == .notFound)
            #expect(try await Self.refKeys(deps, "bbbb*").isEmpty)
            #expect(try await f.databaseDigest() == digest)
        }
    }

    @Test func aUUIDInAnotherSpellingIsTheCanonicalOne() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("identity-upper")
            let upper = package.id.uuidString.uppercased()
            let answer = try await client.get("/api/v1/analytics/package/\(upper)?days=7")
            #expect(answer.status == .ok)
            #expect(answer.object["packageId"] as? String == package.id.canonical)
            // Remembered under the canonical id only.
            #expect(try await Self.refKeys(deps, package.id.canonical) == [RedisKeyspace.packageRef(package.id.canonical)])
            #expect(try await Self.refKeys(deps, upper).isEmpty)
        }
    }

    @Test func aMissingPackageIsRememberedInTheProcessOnly() async throws {
        try await withApp { client, deps in
            let name = "identity-missing-\(UUID().uuidString.prefix(8))"
            for _ in 0..<3 { #expect(try await client.get("/api/v1/analytics/package/\(name)").status == .notFound) }
            #expect(try await Self.refKeys(deps, name).isEmpty)
            let metrics = try await MemoryBoundsTests.metrics(client)
            #expect(MemoryBoundsTests.entries(metrics, "unknown_packages") >= 1)
        }
    }

    @Test func aNulInAnyParameterIsRefused() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("identity-params")
            for query in ["days=7%00", "days=%007", "label=a%00b", "style=flat%00"] {
                let answer = try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg?\(query)")
                #expect(answer.status == .badRequest, "\(query)")
                #expect(answer.errorCode == "invalid_parameter")
            }
            #expect(try await client.get("/api/v1/analytics/popular?limit=5%00").status == .badRequest)
            // An escaped percent sign is no NUL.
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg?label=100%2500").status == .ok)
        }
    }

    @Test(
        "canonical spellings",
        arguments: [
            ("code-reviewer", "code-reviewer"), ("ÉCOLE/prompt", "ÉCOLE/prompt"), ("", nil), ("a\u{0}b", nil), ("a\u{1B}[31m", nil),
            ("a\u{85}", nil), ("3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
        ] as [(String, String?)])
    func canonical(input: String, expected: String?) {
        #expect(PackageIdentity.canonical(input) == expected)
    }
}
