/// Word lists and per-model figures of the demo data. Changing any of them changes the data
/// a given random seed produces.
enum Vocabulary {
    /// First words of package names ("code" + "reviewer" → "code-reviewer").
    static let packageSubjects = [
        "code", "seo", "bug", "test", "api", "docs", "sql", "react", "python", "rust", "security", "commit", "pr", "log",
        "data", "regex", "css", "typescript", "unit-test", "refactor", "docker", "k8s", "git", "cli", "prompt", "email",
        "blog", "legal", "resume", "sales", "swift", "go", "java", "terraform", "changelog", "readme", "schema", "query",
        "accessibility", "performance", "migration", "incident", "release", "onboarding", "support", "product", "ux",
        "copy", "tweet", "meeting",
    ]
    static let packageRoles = [
        "reviewer", "optimizer", "finder", "writer", "generator", "helper", "explainer", "linter", "assistant", "analyzer",
        "formatter", "translator", "summarizer", "auditor", "planner", "mentor", "fixer", "architect", "tutor", "builder",
        "checker", "coach", "scanner", "drafter",
    ]

    static let firstNames = [
        "alex", "maria", "james", "wei", "fatima", "lucas", "sofia", "noah", "aisha", "liam", "emma", "mateo", "olivia",
        "hiroshi", "priya", "daniel", "chloe", "omar", "lena", "ivan", "sara", "diego", "mia", "yusuf", "anna", "kofi",
        "nina", "raj", "elena", "tomas", "grace", "ben", "zara", "leo", "ines", "sam", "julia", "arjun", "hana", "felix",
    ]
    static let lastNames = [
        "smith", "garcia", "chen", "khan", "muller", "rossi", "silva", "kim", "nguyen", "patel", "johnson", "lopez",
        "tanaka", "ivanova", "brown", "martin", "okafor", "haddad", "novak", "jensen", "dubois", "kowalski", "santos",
        "ali", "walker", "schmidt", "costa", "yamamoto", "singh", "andersen",
    ]
    static let emailDomains = ["example.com", "example.org", "example.net", "mail.example.com", "dev.example.io"]

    static let orgFirst = [
        "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Pied Piper", "Vandelay", "Soylent", "Tyrell",
        "Cyberdyne", "Aperture", "Black Mesa", "Massive Dynamic", "Wonka", "Oscorp", "Gringotts", "Monsters", "Prestige",
    ]
    static let orgSecond = ["Labs", "Industries", "Systems", "Software", "Analytics", "Cloud", "Digital", "Robotics", "Health", "Media"]

    static let teams = ["frontend", "backend", "devops", "data", "mobile"]
    /// Relative sizes of the teams above.
    static let teamWeights = [0.27, 0.30, 0.13, 0.17, 0.13]

    struct Model: Sendable {
        let id: String
        /// Share of the runs.
        let weight: Double
        /// Median duration (ms) of a successful run.
        let medianDuration: Double
        /// Probability that a run fails.
        let errorRate: Double
        /// Credits of a run (one more for long outputs, at most 4).
        let credits: Int
    }

    /// Weighted error rate ≈ 5%.
    static let models: [Model] = [
        Model(id: "claude-3-5-sonnet-20241022", weight: 0.38, medianDuration: 2100, errorRate: 0.035, credits: 2),
        Model(id: "gpt-4o", weight: 0.22, medianDuration: 2800, errorRate: 0.065, credits: 2),
        Model(id: "gpt-4o-mini", weight: 0.17, medianDuration: 1200, errorRate: 0.055, credits: 1),
        Model(id: "claude-3-haiku-20240307", weight: 0.12, medianDuration: 800, errorRate: 0.045, credits: 1),
        Model(id: "claude-3-opus-20240229", weight: 0.05, medianDuration: 5200, errorRate: 0.04, credits: 4),
        Model(id: "gemini-1.5-pro", weight: 0.06, medianDuration: 3000, errorRate: 0.09, credits: 2),
    ]

    static let errorMessages = [
        "rate limit exceeded (429)", "upstream timeout after 30s", "context length exceeded", "model overloaded, please retry",
        "invalid response from provider", "content filtered by safety system", "connection reset by peer",
    ]

    /// Free-text feedback. Some contain a tab, a newline or a backslash on purpose: COPY must escape them.
    static let feedback = [
        "Great output, exactly what I needed.", "Missed a few edge cases.", "Fast and accurate!", "Too verbose for my taste.",
        "Found a real bug in our code.", "Would use again\nSecond line of feedback.", "Output path was C:\\temp\\out — fine.",
        "Worked\twith tabs too.", "Très utile, merci !", "Hallucinated an API that does not exist.", "Solid suggestions 👍",
        "Needs better examples.",
    ]

    /// Relative weight of each hour of the UTC day (more runs in working hours).
    static let hourWeights: [Double] = [
        2, 1.5, 1.2, 1, 1, 1.2, 2, 3, 4.5, 6, 7, 7, 6.5, 7, 7.5, 7.5, 7, 6, 5, 4.5, 4, 3.5, 3, 2.5,
    ]
}
