import Foundation

/// The ids the load tester needs, written next to the seeded data.
struct Fixtures: Codable, Equatable {
    struct Package: Codable, Equatable {
        let id: String
        let name: String
    }
    struct Organization: Codable, Equatable {
        let id: String
        /// The owner (an owner or admin may read the organization's analytics).
        let admin: String
    }
    struct Usage: Codable, Equatable {
        let id: String
        let userId: String
        let packageId: String
    }

    /// All packages, most popular first.
    let packages: [Package]
    /// Active (not deleted) users, heaviest first, at most 2000.
    let users: [String]
    let orgs: [Organization]
    /// At most 5000 usage rows of active users, spread over the whole data set.
    let usage: [Usage]

    init(world: World, sampled: [SampledUsage]) {
        packages = world.packages.map { Package(id: $0.id.string, name: $0.name) }
        users = Array(world.usersByActivity.lazy.filter { world.users[$0].deletedAt == nil }.prefix(2000).map { world.users[$0].id.string })
        orgs = world.organizations.compactMap { org in
            guard let owner = org.members.first(where: { $0.role == "owner" }) else { return nil }
            return Organization(id: org.id.string, admin: world.users[owner.user].id.string)
        }
        usage = sampled.prefix(5000).map { Usage(id: $0.id, userId: world.users[$0.user].id.string, packageId: world.packages[$0.package].id.string) }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(self)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
