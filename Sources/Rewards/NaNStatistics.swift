/// Mean and standard deviation over the judged values of a batch (nil = cannot judge), as TRL's
/// nanmean and Bessel-corrected nanstd: the one rule for reward metrics and group advantages.
public enum NaNStatistics {
    /// Mean of the non-nil values; nil when there are none.
    public static func mean(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        return present.isEmpty ? nil : present.reduce(0, +) / Double(present.count)
    }

    /// Bessel-corrected standard deviation of the non-nil values; nil with fewer than two.
    public static func std(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        guard present.count > 1 else { return nil }
        let mean = present.reduce(0, +) / Double(present.count)
        let variance = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(present.count - 1)
        return variance.squareRoot()
    }
}
