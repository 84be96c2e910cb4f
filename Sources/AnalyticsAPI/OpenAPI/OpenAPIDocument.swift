import Foundation

/// The OpenAPI 3.0 document served at `GET /openapi.json`: the resource file
/// `Resources/openapi.json`, served byte for byte (hand-maintained; see docs/openapi.md). A
/// test checks that it describes exactly the routes the router has.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            fatalError("openapi.json is missing from the bundle")
        }
        return Array(data)
    }()
}
