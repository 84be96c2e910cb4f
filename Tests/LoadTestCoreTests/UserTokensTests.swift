import Foundation
import JWTKit
import Testing

@testable import LoadTestCore

@Suite("prpm-loadtest token")
struct UserTokensTests {
    @Test func signsWhatTheAPIVerifiesAndRefusesAWeakSecret() async throws {
        let secret = String(repeating: "s", count: 32)
        let token = try await UserTokens.sign(user: "6f9619ff-8b86-d011-b42d-00c04fc964ff", secret: secret, expiresIn: 60)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = try await keys.verify(token, as: LoadTestClaims.self)
        #expect(claims.userID == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
        #expect(abs(claims.exp - Int(Date().timeIntervalSince1970) - 60) <= 2)
        await #expect(throws: LoadTestError.self) { _ = try await UserTokens.sign(user: "u", secret: "short", expiresIn: 60) }
    }
}
