/// Ordering of package versions: semantic versions by their numeric parts, a pre-release
/// below its release; strings that are not semantic versions after them, in string order.
public enum VersionOrder {
    struct Parsed: Equatable {
        var core: [Int]
        var prerelease: [String]?
    }

    /// `MAJOR.MINOR.PATCH[-prerelease][+build]`, an optional leading `v`.
    static func parse(_ text: String) -> Parsed? {
        var body = Substring(text)
        if body.first == "v" || body.first == "V" { body = body.dropFirst() }
        if let plus = body.firstIndex(of: "+") { body = body[..<plus] }
        var prerelease: [String]?
        if let dash = body.firstIndex(of: "-") {
            let tail = body[body.index(after: dash)...]
            guard !tail.isEmpty else { return nil }
            prerelease = tail.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard prerelease!.allSatisfy({ !$0.isEmpty }) else { return nil }
            body = body[..<dash]
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var core: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 18, part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(part) else { return nil }
            core.append(value)
        }
        return Parsed(core: core, prerelease: prerelease)
    }

    /// True when `a` sorts before `b` in descending order (newest first).
    public static func newerFirst(_ a: String, _ b: String) -> Bool {
        newerFirst((a, parse(a)), (b, parse(b)))
    }

    /// `items` newest version first; each version is parsed once, not once per comparison.
    public static func sortedNewestFirst<Item>(_ items: [Item], version: (Item) -> String) -> [Item] {
        items.map { item -> (item: Item, key: (text: String, parsed: Parsed?)) in
            let text = version(item)
            return (item, (text, parse(text)))
        }
        .sorted { newerFirst($0.key, $1.key) }
        .map(\.item)
    }

    private static func newerFirst(_ lhs: (text: String, parsed: Parsed?), _ rhs: (text: String, parsed: Parsed?)) -> Bool {
        let (a, b) = (lhs.text, rhs.text)
        switch (lhs.parsed, rhs.parsed) {
        case (let x?, let y?):
            if x.core != y.core { return x.core.lexicographicallyPrecedes(y.core) == false }
            switch (x.prerelease, y.prerelease) {
            case (nil, nil): return a < b
            case (nil, _): return true
            case (_, nil): return false
            case (let p?, let q?):
                if p == q { return a < b }
                return prereleasePrecedes(q, p)
            }
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a < b
        }
    }

    /// SemVer 2 precedence of pre-release identifiers (ascending).
    static func prereleasePrecedes(_ p: [String], _ q: [String]) -> Bool {
        for (x, y) in zip(p, q) where x != y {
            switch (Int(x), Int(y)) {
            case (let i?, let j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return x < y
            }
        }
        return p.count < q.count
    }
}
