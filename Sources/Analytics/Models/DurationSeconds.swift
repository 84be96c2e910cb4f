extension Duration {
    /// The duration in seconds, as a `Double` (timings in logs and published metrics).
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
