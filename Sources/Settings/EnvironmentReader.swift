import Foundation

/// Reads settings from environment variables, typed and range-checked. A variable that is
/// set but not valid is a problem, never silently replaced by its default: `validate()` then
/// throws one error naming every bad variable, and the process stops at start.
public struct EnvironmentReader {
    public let environment: [String: String]
    public private(set) var problems: [String] = []

    public init(_ environment: [String: String]) { self.environment = environment }

    /// A string setting (set, even empty).
    public func string(_ name: String) -> String? { environment[name] }

    /// An integer within `range`.
    public mutating func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) -> Int? {
        guard let text = environment[name] else { return nil }
        guard let value = Int(text.trimmingSpaces), range.contains(value) else {
            problems.append("\(name)=\(quoted(text)): expected an integer\(describe(range))")
            return nil
        }
        return value
    }

    /// A number within `range`.
    public mutating func double(_ name: String, in range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude)
        -> Double?
    {
        guard let text = environment[name] else { return nil }
        guard let value = Double(text.trimmingSpaces), value.isFinite, range.contains(value) else {
            problems.append("\(name)=\(quoted(text)): expected a number\(describe(range))")
            return nil
        }
        return value
    }

    /// An exact decimal (a price): plain digits with at most `fractionDigits` decimals
    /// (`5`, `0.04`, `99.90`), within `range`. Signs, exponents, `nan`, `inf` and separators are refused.
    public mutating func decimal(_ name: String, in range: ClosedRange<Decimal>, fractionDigits: Int = 6) -> Decimal? {
        guard let text = environment[name] else { return nil }
        let trimmed = text.trimmingSpaces
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (1...12).contains(parts[0].count),
            parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
            parts.count == 1 || (1...fractionDigits).contains(parts[1].count),
            let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")), range.contains(value)
        else {
            problems.append(
                "\(name)=\(quoted(text)): expected a decimal number from \(range.lowerBound) to \(range.upperBound) "
                    + "with at most \(fractionDigits) decimals")
            return nil
        }
        return value
    }

    /// A duration given in (possibly fractional) seconds, at least `minimum`.
    public mutating func seconds(_ name: String, minimum: Double = 0) -> Duration? {
        double(name, in: minimum...Double.greatestFiniteMagnitude).map { .milliseconds(Int(($0 * 1000).rounded())) }
    }

    /// A duration given in milliseconds, at least `minimum`.
    public mutating func milliseconds(_ name: String, minimum: Int = 0) -> Int? {
        int(name, in: minimum...Int.max)
    }

    /// One of `allowed` (compared as written).
    public mutating func choice(_ name: String, _ allowed: [String]) -> String? {
        guard let text = environment[name] else { return nil }
        guard allowed.contains(text) else {
            problems.append("\(name)=\(quoted(text)): expected one of \(allowed.joined(separator: ", "))")
            return nil
        }
        return text
    }

    /// A comma-separated list whose items are each one of `allowed`.
    public mutating func list(_ name: String, of allowed: [String]) -> [String]? {
        guard let text = environment[name] else { return nil }
        let items = text.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        let unknown = items.filter { !allowed.contains($0) }
        guard unknown.isEmpty else {
            problems.append("\(name)=\(quoted(text)): unknown \(unknown.joined(separator: ", ")) (known: \(allowed.joined(separator: ", ")))")
            return nil
        }
        return items
    }

    /// Records a problem found by the caller (a combination of settings, say).
    public mutating func problem(_ text: String) { problems.append(text) }

    /// Throws when any variable was invalid.
    public func validate() throws(SettingsError) {
        if !problems.isEmpty { throw SettingsError(problems: problems) }
    }

    private func quoted(_ text: String) -> String { "\"\(text)\"" }

    private func describe(_ range: ClosedRange<Int>) -> String {
        bounds(range.lowerBound == .min ? nil : "\(range.lowerBound)", range.upperBound == .max ? nil : "\(range.upperBound)")
    }

    private func describe(_ range: ClosedRange<Double>) -> String {
        let unbounded = Double.greatestFiniteMagnitude
        return bounds(range.lowerBound == -unbounded ? nil : "\(range.lowerBound)", range.upperBound == unbounded ? nil : "\(range.upperBound)")
    }

    private func bounds(_ lowest: String?, _ highest: String?) -> String {
        switch (lowest, highest) {
        case (nil, nil): ""
        case (let lowest?, nil): " ≥ \(lowest)"
        case (nil, let highest?): " ≤ \(highest)"
        case (let lowest?, let highest?): " from \(lowest) to \(highest)"
        }
    }
}

/// Every invalid setting, one per line.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public var description: String { "invalid settings:\n" + problems.map { "  \($0)" }.joined(separator: "\n") }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
