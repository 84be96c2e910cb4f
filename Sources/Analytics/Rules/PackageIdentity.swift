import Foundation

/// What a client may name a package by, before anything is looked up or kept: its id (a UUID in
/// any spelling `UUID(uuidString:)` reads, kept in its canonical lowercase form) or its exact
/// name, of at most `maxNameLength` characters and without control characters. Anything else
/// names no package (404) and costs neither a lookup nor a cache entry. (Postgres' C client
/// stopped at a NUL: `code-reviewer%00junk` was answered as `code-reviewer`, and every raw
/// spelling became a Redis key kept for a week.)
public enum PackageIdentity {
    /// Registry package names are at most 214 characters (npm's rule, which PRPM follows);
    /// the schema's `text` column sets none, so this is the bound.
    public static let maxNameLength = 214

    /// The canonical spelling of `idOrName`, or nil when it cannot name a package.
    public static func canonical(_ idOrName: String) -> String? {
        if let id = UUID(uuidString: idOrName) { return id.canonical }
        guard !idOrName.isEmpty, idOrName.unicodeScalars.count <= maxNameLength,
            !idOrName.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return idOrName
    }
}
