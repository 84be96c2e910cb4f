import Analytics
import Foundation

/// Microseconds in a day.
let microsPerDay: Int64 = 86_400_000_000

/// The fixed part of the demo data: users, organizations and their members, packages and
/// their versions, playground sessions, and the plan of how many usage rows fall on each day.
/// Everything is a pure function of the options and of `today` (the UTC date of the run).
struct World: Sendable {
    struct User: Sendable {
        let id: SeedUUID
        let username: String
        let email: String?
        let createdAt: Int64
        let deletedAt: Int64?
        /// Indices of the organizations the user belongs to (0, 1 or 2).
        var orgs: [Int32]
    }

    struct Member: Sendable {
        let user: Int
        let role: String
        let team: String?
        let joinedAt: Int64
    }

    struct Organization: Sendable {
        let id: SeedUUID
        let name: String
        let createdAt: Int64
        var members: [Member]
    }

    struct Package: Sendable {
        let id: SeedUUID
        let name: String
        let createdAt: Int64
        /// Oldest first.
        let versions: [[UInt8]]
        /// Newer versions are used more.
        let versionDistribution: DiscreteDistribution
        /// Index into `UsageGenerator.ratingTables`.
        let ratingTable: Int
    }

    struct Session: Sendable {
        let id: SeedUUID
        let user: Int
        let package: Int
        let start: Int64
    }

    let options: SeedOptions
    /// Today's UTC date (days since 1970-01-01). Rows fall on the `days` full days before it.
    let today: Int
    var firstDay: Int { today - options.days }
    var firstDayMicros: Int64 { Int64(firstDay) * microsPerDay }
    var midnightMicros: Int64 { Int64(today) * microsPerDay }

    let users: [User]
    /// User activity: index = activity rank (0 = heaviest), value = user index.
    let usersByActivity: [Int]
    let userActivity: DiscreteDistribution
    let organizations: [Organization]
    /// Index = popularity rank - 1.
    let packages: [Package]
    let packagePopularity: DiscreteDistribution
    /// Sorted by start time.
    let sessions: [Session]
    /// For each day of the window (0 = first day): the range of `sessions` that start on it.
    let sessionsByDay: [Range<Int>]
    /// For each day of the window: the index of its first usage row (and a last entry = rows).
    let dayRowStart: [Int]
    let hourDistribution: DiscreteDistribution
    let modelDistribution: DiscreteDistribution

    enum Stream: UInt64 {
        case users = 1, organizations, packages, sessions, usage
    }

    init(options: SeedOptions, today: Int) {
        self.options = options
        self.today = today
        let firstDayMicros = Int64(today - options.days) * microsPerDay
        let midnight = Int64(today) * microsPerDay

        // Users.
        var random = Xoshiro256(seed: options.randomSeed, stream: Stream.users.rawValue)
        var users: [User] = []
        users.reserveCapacity(options.users)
        for index in 0..<options.users {
            let id = SeedUUID(&random)
            let first = random.pick(Vocabulary.firstNames)
            let last = random.pick(Vocabulary.lastNames)
            let prefix: String
            switch random.below(4) {
            case 0: prefix = "\(first)-\(last)"
            case 1: prefix = "\(first)\(last.prefix(1))"
            case 2: prefix = "\(first)_\(last)"
            default: prefix = "dev-\(first)"
            }
            // The prefix ends with a letter, so the number makes the name unique.
            let username = "\(prefix)\(index + 1)"
            let email = random.chance(0.03) ? nil : "\(first).\(last)\(index + 1)@\(random.pick(Vocabulary.emailDomains))"
            let createdAt = firstDayMicros - Int64(1 + random.below(400)) * microsPerDay - Int64(random.below(86_400)) * 1_000_000
            let deletedAt: Int64? =
                random.chance(0.01)
                ? midnight - Int64(1 + random.below(options.days + 60)) * microsPerDay + Int64(random.below(86_400)) * 1_000_000 : nil
            users.append(User(id: id, username: username, email: email, createdAt: createdAt, deletedAt: deletedAt, orgs: []))
        }
        var byActivity = Array(0..<options.users)
        random.shuffle(&byActivity)
        usersByActivity = byActivity
        // Some heavy users: Zipf with a gentler slope than the packages' (with 20k users the
        // heaviest makes ~0.8% of the runs, ~100 a day; the top 1% of users ~15%).
        userActivity = .zipf(count: options.users, exponent: 0.6)

        // Organizations and members.
        random = Xoshiro256(seed: options.randomSeed, stream: Stream.organizations.rawValue)
        var organizations: [Organization] = []
        let pairs = Vocabulary.orgFirst.count * Vocabulary.orgSecond.count
        for index in 0..<options.orgs {
            let first = Vocabulary.orgFirst[index % Vocabulary.orgFirst.count]
            let second = Vocabulary.orgSecond[(index / Vocabulary.orgFirst.count + index) % Vocabulary.orgSecond.count]
            let name = index < pairs ? "\(first) \(second)" : "\(first) \(second) \(index / pairs + 1)"
            let createdAt = firstDayMicros - Int64(420 + random.below(600)) * microsPerDay
            organizations.append(Organization(id: SeedUUID(&random), name: name, createdAt: createdAt, members: []))
        }
        if options.orgs > 0 {
            let orgSize = DiscreteDistribution.zipf(count: options.orgs, exponent: 0.6)
            for user in 0..<options.users where random.chance(0.4) {
                let primary = orgSize.sample(&random)
                users[user].orgs.append(Int32(primary))
                if options.orgs > 1, random.chance(0.06) {
                    var second = orgSize.sample(&random)
                    if second == primary { second = (primary + 1) % options.orgs }
                    users[user].orgs.append(Int32(second))
                }
            }
            // Every organization gets at least an owner, an admin and a member when there are users enough.
            var memberCount = [Int](repeating: 0, count: options.orgs)
            for user in users { for org in user.orgs { memberCount[Int(org)] += 1 } }
            let minimum = min(3, options.users)
            for org in 0..<options.orgs {
                var attempts = 0
                while memberCount[org] < minimum, attempts < 1000 {
                    attempts += 1
                    let user = random.below(options.users)
                    guard users[user].orgs.count < 2, !users[user].orgs.contains(Int32(org)) else { continue }
                    users[user].orgs.append(Int32(org))
                    memberCount[org] += 1
                }
            }
            var membersByOrg = [[Int]](repeating: [], count: options.orgs)
            for (index, user) in users.enumerated() { for org in user.orgs { membersByOrg[Int(org)].append(index) } }
            let team = DiscreteDistribution(weights: Vocabulary.teamWeights)
            for org in 0..<options.orgs {
                var members = membersByOrg[org]
                random.shuffle(&members)
                // Owners and admins are active users (the load tester signs in as them).
                let active = members.filter { users[$0].deletedAt == nil }
                let deleted = members.filter { users[$0].deletedAt != nil }
                members = active + deleted
                let admins = members.count >= 8 && random.chance(0.5) ? 2 : 1
                organizations[org].members = members.enumerated().map { position, user in
                    let role: String
                    if position == 0 {
                        role = "owner"
                    } else if position <= admins {
                        role = "admin"
                    } else {
                        role = random.chance(0.2) ? "maintainer" : "member"
                    }
                    let teamName = random.chance(0.15) ? nil : Vocabulary.teams[team.sample(&random)]
                    let joinedFloor = max(users[user].createdAt, organizations[org].createdAt)
                    let joinedAt = min(joinedFloor + Int64(random.below(90 * 86_400)) * 1_000_000, firstDayMicros - 1)
                    return Member(user: user, role: role, team: teamName, joinedAt: joinedAt)
                }
            }
        }
        self.users = users
        self.organizations = organizations

        // Packages, in popularity order (index 0 = rank 1).
        random = Xoshiro256(seed: options.randomSeed, stream: Stream.packages.rawValue)
        var names: [String] = []
        for subject in Vocabulary.packageSubjects { for role in Vocabulary.packageRoles { names.append("\(subject)-\(role)") } }
        random.shuffle(&names)
        var packages: [Package] = []
        packages.reserveCapacity(options.packages)
        for index in 0..<options.packages {
            let base = names[index % names.count]
            let name = index < names.count ? base : "\(base)-\(index / names.count + 1)"
            let createdAt = firstDayMicros - Int64(30 + random.below(500)) * microsPerDay - Int64(random.below(86_400)) * 1_000_000
            // Popular packages are mature: more versions.
            let versions = World.versions(&random, count: index < 10 ? 6 + random.below(7) : 1 + random.below(12))
            let weights = versions.enumerated().map { position, version in
                Double((position + 1) * (position + 1)) * (version.contains("-") ? 0.3 : 1)
            }
            packages.append(
                Package(
                    id: SeedUUID(&random), name: name, createdAt: createdAt, versions: versions.map { Array($0.utf8) },
                    versionDistribution: DiscreteDistribution(weights: weights), ratingTable: random.chance(0.7) ? 0 : 1))
        }
        self.packages = packages
        packagePopularity = .zipf(count: options.packages, exponent: 1.0)
        hourDistribution = DiscreteDistribution(weights: Vocabulary.hourWeights)
        modelDistribution = DiscreteDistribution(weights: Vocabulary.models.map(\.weight))

        // Rows per day: growing over the window, quieter at weekends (largest-remainder rounding).
        let days = options.days
        let dayWeights = (0..<days).map { offset -> Double in
            let weekday = (today - days + offset + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
            return (1.0 + Double(offset) / Double(days)) * (weekday >= 5 ? 0.65 : 1.0)
        }
        let rowsPerDay = World.apportion(options.rows, weights: dayWeights)
        var starts = [0]
        for count in rowsPerDay { starts.append(starts.last! + count) }
        dayRowStart = starts

        // Sessions: about one per 50 rows; a tenth of the rows belong to one.
        random = Xoshiro256(seed: options.randomSeed, stream: Stream.sessions.rawValue)
        let sessionsPerDay = options.rows > 0 ? World.apportion(max(1, options.rows / 50), weights: dayWeights) : [Int](repeating: 0, count: days)
        var sessions: [Session] = []
        var ranges: [Range<Int>] = []
        for day in 0..<days {
            let dayStart = firstDayMicros + Int64(day) * microsPerDay
            var today: [Session] = []
            for _ in 0..<sessionsPerDay[day] {
                let user = usersByActivity[userActivity.sample(&random)]
                let package = packagePopularity.sample(&random)
                let start = dayStart + Int64(hourDistribution.sample(&random)) * 3_600_000_000 + Int64(random.below(3_600_000_000))
                today.append(Session(id: SeedUUID(&random), user: user, package: package, start: start))
            }
            today.sort { $0.start < $1.start }
            ranges.append(sessions.count..<(sessions.count + today.count))
            sessions += today
        }
        self.sessions = sessions
        sessionsByDay = ranges
    }

    /// 1 to 12 semantic versions, oldest first; two-digit parts and pre-releases occur.
    static func versions(_ random: inout Xoshiro256, count: Int) -> [String] {
        var major = [0, 1, 1, 1, 2, 3][random.below(6)]
        // Starting high makes 1.9.0 → 1.10.0 common.
        var minor = random.chance(0.4) ? 7 + random.below(4) : random.below(5)
        var patch = 0
        var result = ["\(major).\(minor).\(patch)"]
        while result.count < count {
            let r = random.unit()
            if r < 0.55 {
                minor += 1
                patch = 0
            } else if r < 0.85 {
                patch += 1
            } else if r < 0.94 || result.count + 2 > count {
                major += 1
                minor = 0
                patch = 0
            } else {
                result.append("\(major + 1).0.0-beta.\(1 + random.below(3))")
                major += 1
                minor = 0
                patch = 0
            }
            result.append("\(major).\(minor).\(patch)")
        }
        return result
    }

    /// Splits `total` into integer parts proportional to `weights` (largest remainder; ties to the earlier index).
    static func apportion(_ total: Int, weights: [Double]) -> [Int] {
        let sum = weights.reduce(0, +)
        let exact = weights.map { Double(total) * $0 / sum }
        var parts = exact.map { Int($0.rounded(.down)) }
        var left = total - parts.reduce(0, +)
        let order = exact.indices.sorted { (exact[$0] - exact[$0].rounded(.down), -$0) > (exact[$1] - exact[$1].rounded(.down), -$1) }
        var index = 0
        while left > 0 {
            parts[order[index % order.count]] += 1
            left -= 1
            index += 1
        }
        return parts
    }
}
