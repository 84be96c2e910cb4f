import Foundation
import Mustache

/// The server-rendered pages: mustache templates (`Templates/*.mustache`, HTML-escaping every
/// `{{value}}`) filled with view models built from the same answers as the JSON API.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// A digest of every template: part of each page's ETag, so a deploy with changed
    /// templates does not answer 304 for the old pages.
    public let version: String

    /// Loads every template of the bundle once, at start.
    public init() throws {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { throw MissingTemplates() }
        var library = MustacheLibrary()
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in files.sorted() where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
            for byte in (file + text).utf8 {
                digest ^= UInt64(byte)
                digest &*= 0x0000_0100_0000_01b3
            }
        }
        self.library = library
        self.version = String(digest, radix: 16)
    }

    struct MissingTemplates: Error {}

    /// The page `name` for `model` (a struct whose properties the template reads).
    public func render(_ model: any Sendable, page name: String) -> String {
        library.render(model, withTemplate: name) ?? ""
    }
}

/// Numbers as people read them on a page.
public enum PageFormat {
    /// 1247 → "1,247".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A package name as one path segment of a page link.
    public static func pathSegment(_ name: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }
}
