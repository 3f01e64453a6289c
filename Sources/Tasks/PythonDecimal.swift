/// A finite number read as Python's `decimal.Decimal(text)` reads it, for comparing values exactly.
///
/// Python strips surrounding whitespace (`str.isspace`), drops every "_", reads any Unicode decimal
/// digit (category Nd) as its ASCII digit, then accepts `[+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits]`.
/// Equality is of values: "1.50" == "1.5", "1E+3" == "1000", "-0" == "0". Infinities and NaNs (which
/// Python also reads) are nil here: neither equals a finite oracle, and every oracle we compare with is one.
public struct PythonDecimal: Equatable, Sendable {
    /// The significant digits without leading or trailing zeros ("" for zero), ASCII.
    public let digits: String
    /// The power of ten the last significant digit stands for (0 for zero).
    public let exponent: Int
    /// Whether the value is below zero (never for zero).
    public let isNegative: Bool

    public init?(_ text: String) {
        var scalars = Array(text.pythonStripped().unicodeScalars.filter { $0 != "_" }).map { scalar -> Unicode.Scalar in
            guard scalar.properties.generalCategory == .decimalNumber, let value = scalar.properties.numericValue else { return scalar }
            return Unicode.Scalar(UInt8(ascii: "0") + UInt8(value))
        }[...]
        var negative = false
        if let sign = scalars.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            scalars = scalars.dropFirst()
        }
        func isASCIIDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
        let integer = scalars.prefix(while: isASCIIDigit)
        scalars = scalars.dropFirst(integer.count)
        var fraction: ArraySlice<Unicode.Scalar> = []
        if scalars.first == "." {
            fraction = scalars.dropFirst().prefix(while: isASCIIDigit)
            scalars = scalars.dropFirst(1 + fraction.count)
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        var power = 0
        if let e = scalars.first, e == "e" || e == "E" {
            var rest = scalars.dropFirst()
            var exponentNegative = false
            if let sign = rest.first, sign == "-" || sign == "+" {
                exponentNegative = sign == "-"
                rest = rest.dropFirst()
            }
            let exponentDigits = rest.prefix(while: isASCIIDigit)
            guard !exponentDigits.isEmpty, let magnitude = Int(String(String.UnicodeScalarView(exponentDigits))),
                  magnitude < Int.max / 4 else { return nil }
            power = exponentNegative ? -magnitude : magnitude
            scalars = rest.dropFirst(exponentDigits.count)
        }
        guard scalars.isEmpty else { return nil }
        // value = (integer fraction as one integer) * 10^(power - fraction.count)
        var significant = String(String.UnicodeScalarView(integer + fraction))
        significant = String(significant.drop(while: { $0 == "0" }))
        var exponent = power - fraction.count
        while significant.last == "0" {
            significant.removeLast()
            exponent += 1
        }
        digits = significant
        self.exponent = significant.isEmpty ? 0 : exponent
        isNegative = negative && !significant.isEmpty
    }

    /// Python's `float(text)` for the plain decimal texts reasoning-gym writes as oracles ("288", "-3.5").
    public static func float(_ text: String) -> Double? {
        Double(text.pythonStripped().replacingOccurrences(of: "_", with: ""))
    }
}

import Foundation
