/// An exact fraction of two `Int`s, always normalised: the denominator is positive and the fraction is in
/// lowest terms, so equal values have equal fields (`==` and hashing are exact).
///
/// Every operation checks for overflow and throws `TaskError.overflow` (or `.divisionByZero`) instead of
/// trapping, so verifiers can run on any text a model writes.
public struct Rational: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let numerator: Int
    public let denominator: Int

    public static let zero = Rational(0)
    public static let one = Rational(1)

    /// The integer `value`.
    public init(_ value: Int) {
        numerator = value
        denominator = 1
    }

    /// `numerator / denominator` in lowest terms.
    public init(_ numerator: Int, _ denominator: Int) throws {
        guard denominator != 0 else { throw TaskError.divisionByZero(operation: "\(numerator)/\(denominator)") }
        try self.init(negative: (numerator < 0) != (denominator < 0), numerator.magnitude, denominator.magnitude,
                      operation: "\(numerator)/\(denominator)")
    }

    /// Builds from magnitudes and a sign, reducing by the gcd first so that results whose lowest terms fit
    /// are accepted even when the unreduced terms do not fit in `Int`.
    private init(negative: Bool, _ top: UInt, _ bottom: UInt, operation: @autoclosure () -> String) throws {
        let divisor = Rational.gcd(top, bottom)
        let (top, bottom) = (top / divisor, bottom / divisor)
        // A negative numerator may reach Int.min, whose magnitude is Int.max + 1.
        let topLimit = negative ? Int.min.magnitude : UInt(Int.max)
        guard top <= topLimit, bottom <= UInt(Int.max) else { throw TaskError.overflow(operation: operation()) }
        numerator = negative ? Int(truncatingIfNeeded: 0 &- top) : Int(top)
        denominator = Int(bottom)
    }

    public var isInteger: Bool { denominator == 1 }

    /// The nearest `Double` (for display and metrics, never for comparisons).
    public var doubleValue: Double { Double(numerator) / Double(denominator) }

    /// "3/4", "-3/4" or "5".
    public var description: String { isInteger ? "\(numerator)" : "\(numerator)/\(denominator)" }

    public func negated() throws -> Rational {
        try Rational(negative: numerator > 0, numerator.magnitude, denominator.magnitude, operation: "-(\(self))")
    }

    public func adding(_ other: Rational) throws -> Rational {
        try combine(other, subtract: false)
    }

    public func subtracting(_ other: Rational) throws -> Rational {
        try combine(other, subtract: true)
    }

    public func multiplied(by other: Rational) throws -> Rational {
        // Built only when an error needs it: verifiers multiply often.
        let operation = { "(\(self)) * (\(other))" }
        // Cross-reduce first so products stay as small as possible: (a/b)(c/d) = (a/g1)(c/g2) / ((b/g2)(d/g1)).
        let g1 = Rational.gcd(numerator.magnitude, other.denominator.magnitude)
        let g2 = Rational.gcd(other.numerator.magnitude, denominator.magnitude)
        let top = try Rational.multiply(numerator.magnitude / g1, other.numerator.magnitude / g2, operation)
        let bottom = try Rational.multiply(denominator.magnitude / g2, other.denominator.magnitude / g1, operation)
        return try Rational(negative: (numerator < 0) != (other.numerator < 0), top, bottom, operation: operation())
    }

    public func divided(by other: Rational) throws -> Rational {
        guard other.numerator != 0 else { throw TaskError.divisionByZero(operation: "(\(self)) / (\(other))") }
        let reciprocal = try Rational(other.denominator, other.numerator)
        return try multiplied(by: reciprocal)
    }

    /// a/b ± c/d = (a*(d/g) ± c*(b/g)) / (b/g * d) with g = gcd(b, d).
    private func combine(_ other: Rational, subtract: Bool) throws -> Rational {
        let g = Int(Rational.gcd(denominator.magnitude, other.denominator.magnitude))
        let (left, o1) = numerator.multipliedReportingOverflow(by: other.denominator / g)
        let (right, o2) = other.numerator.multipliedReportingOverflow(by: denominator / g)
        let (top, o3) = subtract ? left.subtractingReportingOverflow(right) : left.addingReportingOverflow(right)
        let (bottom, o4) = (denominator / g).multipliedReportingOverflow(by: other.denominator)
        guard !(o1 || o2 || o3 || o4) else {
            throw TaskError.overflow(operation: "(\(self)) \(subtract ? "-" : "+") (\(other))")
        }
        return try Rational(top, bottom)
    }

    private static func multiply(_ a: UInt, _ b: UInt, _ operation: () -> String) throws -> UInt {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw TaskError.overflow(operation: operation()) }
        return product
    }

    static func gcd(_ a: UInt, _ b: UInt) -> UInt {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a == 0 ? 1 : a
    }

    /// Exact comparison of a/b and c/d through the 128-bit products a*d and c*b (never overflows).
    public static func < (lhs: Rational, rhs: Rational) -> Bool {
        let left = lhs.numerator.multipliedFullWidth(by: rhs.denominator)
        let right = rhs.numerator.multipliedFullWidth(by: lhs.denominator)
        return (left.high, left.low) < (right.high, right.low)
    }
}

extension Rational {
    /// Parses a plain number: an integer ("-12"), a decimal ("0.75", ".5", "2."), a decimal with an exponent
    /// ("1e-05", "2.5E3", as Swift prints small and large `Double`s) or a fraction of integers ("-3/4").
    /// Returns nil when the text is anything else or does not fit (no whitespace, no thousands separators:
    /// `AnswerExtractor` handles the forms people write).
    public init?(_ text: some StringProtocol) {
        if let slash = text.firstIndex(of: "/") {
            guard let top = Int(text[..<slash]), let bottom = Int(text[text.index(after: slash)...]),
                  let value = try? Rational(top, bottom) else { return nil }
            self = value
            return
        }
        guard let value = Rational.decimal(Array(text.utf8)) else { return nil }
        self = value
    }

    /// sign? digits* ('.' digits*)? ([eE] sign? digits+)? with at least one mantissa digit.
    private static func decimal(_ bytes: [UInt8]) -> Rational? {
        var i = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { i = 1 }
        var mantissa = Rational.zero
        var fractionDigits = 0, digits = 0, seenPoint = false
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if let digit = Rational.digitValue(byte) {
                guard let next = try? mantissa.multiplied(by: Rational(10)).adding(Rational(digit)) else { return nil }
                mantissa = next
                digits += 1
                if seenPoint { fractionDigits += 1 }
            } else {
                break
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        var exponent = -fractionDigits
        if i < bytes.count {
            guard bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E"),
                  let power = Int(String(decoding: bytes[(i + 1)...], as: UTF8.self)),
                  abs(power) <= 40 else { return nil }
            exponent += power
        }
        guard let scale = try? Rational.powerOfTen(abs(exponent)),
              let value = try? (exponent >= 0 ? mantissa.multiplied(by: scale) : mantissa.divided(by: scale))
        else { return nil }
        return negative ? try? value.negated() : value
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func powerOfTen(_ n: Int) throws -> Rational {
        var value = Rational.one
        for _ in 0..<n { value = try value.multiplied(by: Rational(10)) }
        return value
    }
}
