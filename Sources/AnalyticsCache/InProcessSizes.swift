import Synchronization

/// How much an in-process cache or queue holds now.
public struct StructureSize: Sendable, Equatable {
    public var entries: Int
    /// Bytes as the structure counts them (its values' payloads); nil where it does not count them.
    public var bytes: Int?

    public init(entries: Int, bytes: Int? = nil) {
        self.entries = entries
        self.bytes = bytes
    }
}

/// An in-process structure that can say how much it holds.
public protocol SizedStructure: AnyObject, Sendable {
    var size: StructureSize { get }
}

/// The in-process caches and queues of this process by name, for `/metrics`
/// (`prpm_inprocess_entries{structure=…}`, `prpm_inprocess_bytes{structure=…}`): a structure
/// that only grows under a steady load is a leak, and shows here before it shows in the RSS.
///
/// Structures are held weakly (one that is gone drops out); several alive under one name (the
/// test suite builds many routers) are added up.
public final class InProcessSizes: Sendable {
    public static let shared = InProcessSizes()

    private struct Registered {
        let name: String
        weak var structure: (any SizedStructure)?
    }

    private let registered = Mutex<[Registered]>([])

    public init() {}

    public func register(_ name: String, _ structure: any SizedStructure) {
        registered.withLock { list in
            list.removeAll { $0.structure == nil }
            list.append(Registered(name: name, structure: structure))
        }
    }

    /// The sizes of the live structures, added up by name.
    public func snapshot() -> [String: StructureSize] {
        let live = registered.withLock { list -> [(String, any SizedStructure)] in
            list.removeAll { $0.structure == nil }
            return list.compactMap { item in item.structure.map { (item.name, $0) } }
        }
        var sizes: [String: StructureSize] = [:]
        for (name, structure) in live {
            let size = structure.size
            var total = sizes[name] ?? StructureSize(entries: 0, bytes: size.bytes == nil ? nil : 0)
            total.entries += size.entries
            if let bytes = size.bytes { total.bytes = (total.bytes ?? 0) + bytes }
            sizes[name] = total
        }
        return sizes
    }

    /// Prometheus text of `snapshot()` plus `extra` figures (structures that are not objects).
    public func prometheusText(extra: [String: StructureSize] = [:]) -> String {
        let sizes = snapshot().merging(extra) { $1 }
        let names = sizes.keys.sorted()
        var text = "# HELP prpm_inprocess_entries Entries held by an in-process cache or queue.\n# TYPE prpm_inprocess_entries gauge\n"
        for name in names { text += "prpm_inprocess_entries{structure=\"\(name)\"} \(sizes[name]!.entries)\n" }
        text += "# HELP prpm_inprocess_bytes Bytes of payload held by an in-process cache.\n# TYPE prpm_inprocess_bytes gauge\n"
        for name in names { if let bytes = sizes[name]!.bytes { text += "prpm_inprocess_bytes{structure=\"\(name)\"} \(bytes)\n" } }
        return text
    }
}
