import AnalyticsAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// The served document and the router are one contract: every route is documented with its
/// method, and every documented operation is routed.
@Suite("OpenAPI document against the router")
struct OpenAPIDocumentTests {
    @Test func theDocumentDescribesExactlyTheRoutesOfTheRouter() async throws {
        let dependencies = try await SharedApp.shared.get()
        let router = await buildRouter(dependencies)
        let routed = Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                return "\(route.method.rawValue) /\(path.joined(separator: "/"))"
            })
        try await withApp { client, _ in
            let response = try await client.get("/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.0.3")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            let documented = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
            // HTML pages for people are not part of the API document.
            let operations: Set = ["/healthz", "/readyz", "/metrics", "/openapi.json"]
            let api = routed.filter { route in
                let path = String(route.split(separator: " ")[1])
                return path.hasPrefix("/api/") || operations.contains(path)
            }
            #expect(routed.contains("GET /"), "the home page is routed")
            #expect(api.subtracting(documented).isEmpty, "routed but not documented: \(api.subtracting(documented).sorted())")
            #expect(documented.subtracting(api).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
            #expect(routed.contains("GET /api/v1/analytics/package/{packageId}/badge/{file}"))
        }
    }
}
