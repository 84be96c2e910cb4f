import Analytics

/// A usage row chosen for the load tester's fixtures.
struct SampledUsage: Sendable {
    let id: String
    let user: Int
    let package: Int
}

/// One block of usage rows in COPY text format.
struct UsageBlock: Sendable {
    let index: Int
    let rows: Int
    let text: String
    let sampled: [SampledUsage]
}

/// Generates the `playground_usage` rows in blocks of a fixed size. Block `b` holds rows
/// `b * rowsPerBlock ..< (b + 1) * rowsPerBlock` and draws from its own random stream, so
/// blocks can be generated in any order, on any number of threads, with identical results.
struct UsageGenerator: Sendable {
    /// Part of the definition of the data: changing it changes what a seed produces.
    static let rowsPerBlock = 4096

    static let columns = """
        id, user_id, org_id, package_id, package_version, session_id, model, tokens_used, duration_ms, credits_spent, \
        request_size_bytes, response_size_bytes, input_length, output_length, error_occurred, error_message, user_rating, \
        was_helpful, user_feedback, comparison_mode, created_at
        """

    /// Ratings 1…5 of a good package, of a mixed one, and of a failed run.
    static let ratingTables = [
        DiscreteDistribution(weights: [0.03, 0.04, 0.10, 0.33, 0.50]),
        DiscreteDistribution(weights: [0.08, 0.10, 0.22, 0.35, 0.25]),
        DiscreteDistribution(weights: [0.35, 0.30, 0.20, 0.10, 0.05]),
    ]

    let world: World
    /// The 36-byte texts of the ids, back to back.
    private let userIDs: [UInt8]
    private let packageIDs: [UInt8]
    private let orgIDs: [UInt8]
    private let sessionIDs: [UInt8]
    private let userDeleted: [Bool]
    /// Per user: org indices (-1 = none).
    private let userOrg1: [Int32]
    private let userOrg2: [Int32]
    private let datePrefixes: [[UInt8]]
    private let modelNames: [[UInt8]]
    private let errorMessages: [[UInt8]]
    private let feedback: [[UInt8]]
    /// Every `sampleStride`-th row is a candidate for the fixtures.
    let sampleStride: Int

    init(world: World) {
        self.world = world
        userIDs = world.users.flatMap(\.id.text)
        packageIDs = world.packages.flatMap(\.id.text)
        orgIDs = world.organizations.flatMap(\.id.text)
        sessionIDs = world.sessions.flatMap(\.id.text)
        userDeleted = world.users.map { $0.deletedAt != nil }
        userOrg1 = world.users.map { $0.orgs.first ?? -1 }
        userOrg2 = world.users.map { $0.orgs.count > 1 ? $0.orgs[1] : -1 }
        datePrefixes = (0..<world.options.days).map { Array(DayFormat.string(world.firstDay + $0).utf8) }
        modelNames = Vocabulary.models.map { copyEscaped(Array($0.id.utf8)) }
        errorMessages = Vocabulary.errorMessages.map { copyEscaped(Array($0.utf8)) }
        feedback = Vocabulary.feedback.map { copyEscaped(Array($0.utf8)) }
        sampleStride = max(1, world.options.rows / 5000)
    }

    var blockCount: Int { (world.options.rows + Self.rowsPerBlock - 1) / Self.rowsPerBlock }

    func block(_ index: Int) -> UsageBlock {
        let first = index * Self.rowsPerBlock
        let end = min(first + Self.rowsPerBlock, world.options.rows)
        var random = Xoshiro256(seed: world.options.randomSeed, stream: World.Stream.usage.rawValue, index: UInt64(index))
        var out: [UInt8] = []
        out.reserveCapacity((end - first) * 300)
        var sampled: [SampledUsage] = []
        let starts = world.dayRowStart
        // The day of the first row: the last day whose first row is <= first.
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) >> 1
            if starts[mid] <= first { low = mid } else { high = mid - 1 }
        }
        var day = low
        let firstDayMicros = world.firstDayMicros
        let hour: Int64 = 3_600_000_000

        for row in first..<end {
            while row >= starts[day + 1] { day += 1 }
            let dayStart = firstDayMicros + Int64(day) * microsPerDay
            let rowStart = out.count
            appendRandomUUID(&random, to: &out)
            let idEnd = out.count

            // Who, what, when.
            let user: Int
            let package: Int?
            let session: Int?
            var createdAt: Int64
            let sessions = world.sessionsByDay[day]
            if !sessions.isEmpty, random.chance(0.1) {
                let chosen = sessions.lowerBound + random.below(sessions.count)
                let s = world.sessions[chosen]
                session = chosen
                user = s.user
                package = s.package
                createdAt = min(s.start + Int64(random.below(1_200_000_000)), dayStart + microsPerDay - 1)
            } else {
                session = nil
                user = world.usersByActivity[world.userActivity.sample(&random)]
                package = random.chance(0.02) ? nil : world.packagePopularity.sample(&random)
                createdAt = dayStart + Int64(world.hourDistribution.sample(&random)) * hour + Int64(random.below(Int(hour)))
            }
            out.tab()
            out.append(contentsOf: userIDs[(user * 36)..<(user * 36 + 36)])
            out.tab()
            let org1 = Int(userOrg1[user])
            if org1 < 0 {
                out.null()
            } else {
                let org2 = Int(userOrg2[user])
                let org = org2 >= 0 && random.chance(0.3) ? org2 : org1
                out.append(contentsOf: orgIDs[(org * 36)..<(org * 36 + 36)])
            }
            out.tab()
            if let package {
                out.append(contentsOf: packageIDs[(package * 36)..<(package * 36 + 36)])
                out.tab()
                if random.chance(0.03) {
                    out.null()
                } else {
                    let p = world.packages[package]
                    out.append(contentsOf: p.versions[p.versionDistribution.sample(&random)])
                }
            } else {
                out.null()
                out.tab()
                out.null()
            }
            out.tab()
            if let session {
                out.append(contentsOf: sessionIDs[(session * 36)..<(session * 36 + 36)])
            } else {
                out.null()
            }

            // How it went.
            let modelIndex = world.modelDistribution.sample(&random)
            let model = Vocabulary.models[modelIndex]
            let errorKnown = !random.chance(0.01)
            let failed = errorKnown && random.chance(model.errorRate)
            var tokens = min(max(Int(random.logNormal(median: 1800, sigma: 0.6)), 100), 8000)
            if failed { tokens = max(100, tokens / 3) }
            let durationMedian = model.medianDuration * pow(Double(tokens) / 1800, 0.35)
            var duration = min(max(Int(random.logNormal(median: durationMedian, sigma: 0.4)), 150), 10_000)
            if failed, random.chance(0.25) { duration = 10_000 }
            let credits = min(model.credits + (tokens > 5000 ? 1 : 0), 4)
            let inputLength = tokens * (100 + random.below(140)) / 100
            let outputLength = failed ? 0 : tokens * 4 - inputLength
            let requestSize = inputLength + 180 + random.below(400)
            let responseSize = failed ? 120 + random.below(200) : outputLength + 250 + random.below(500)

            out.tab()
            out.append(contentsOf: modelNames[modelIndex])
            out.tab()
            out.appendInt(tokens)
            out.tab()
            out.appendInt(duration)
            out.tab()
            out.appendInt(credits)
            out.tab()
            out.appendInt(requestSize)
            out.tab()
            out.appendInt(responseSize)
            out.tab()
            out.appendInt(inputLength)
            out.tab()
            out.appendInt(outputLength)
            out.tab()
            if errorKnown { out.appendBool(failed) } else { out.null() }
            out.tab()
            if failed { out.append(contentsOf: errorMessages[random.below(errorMessages.count)]) } else { out.null() }

            // What the user thought of it.
            let rated = random.chance(0.2)
            var rating = 0
            out.tab()
            if rated {
                let table = failed ? 2 : (package.map { world.packages[$0].ratingTable } ?? 1)
                rating = 1 + Self.ratingTables[table].sample(&random)
                out.appendInt(rating)
            } else {
                out.null()
            }
            out.tab()
            if rated ? random.chance(0.8) : random.chance(0.1125) {
                out.appendBool(rated ? rating >= 3 : random.chance(0.85))
            } else {
                out.null()
            }
            out.tab()
            if rated ? random.chance(0.2) : random.chance(0.0125) {
                out.append(contentsOf: feedback[random.below(feedback.count)])
            } else {
                out.null()
            }
            out.tab()
            out.appendBool(random.chance(0.05))
            out.tab()
            out.appendTimestamp(createdAt, datePrefix: datePrefixes[day])
            out.endRow()

            if row % sampleStride == 0, let package, !userDeleted[user] {
                sampled.append(
                    SampledUsage(id: String(decoding: out[rowStart..<idEnd], as: UTF8.self), user: user, package: package))
            }
        }
        return UsageBlock(index: index, rows: end - first, text: String(decoding: out, as: UTF8.self), sampled: sampled)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
