import XCTest
import TensorCore

/// The norm-wise relative error max|a - b| / max|b| (absolute when b is all zero).
public func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count, "relativeError: \(actual.count) vs \(expected.count) values")
    var diff = 0.0, scale = 0.0
    for (a, b) in zip(actual, expected) {
        diff = max(diff, abs(Double(a) - Double(b)))
        scale = max(scale, abs(Double(b)))
    }
    return scale == 0 ? diff : diff / scale
}

/// Fails when the norm-wise relative error of `actual` against `expected` exceeds `tolerance`,
/// naming what was compared and where the largest difference is.
public func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Double, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let error = relativeError(actual, expected)
    if !(error <= tolerance) {
        var worst = 0
        for i in actual.indices where abs(actual[i] - expected[i]) > abs(actual[worst] - expected[worst]) { worst = i }
        XCTFail("\(what): relative error \(error) > \(tolerance); worst at [\(worst)]: \(actual[worst]) vs \(expected[worst])",
                file: file, line: line)
    }
}

/// Compares a tensor's values with a fixture tensor, including the shape.
public func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Double, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    assertClose(actual.values, expected.values, tolerance: tolerance, what, file: file, line: line)
}

/// Fails unless `actual` and `expected` have the same length and every pair differs by at most
/// `accuracy` (plus `relative` x |expected|), naming the first pair that does not.
public func assertElementsClose<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T], accuracy: T, relative: T = 0, _ what: String = "",
                                                       file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    for i in actual.indices where !(abs(actual[i] - expected[i]) <= accuracy + relative * abs(expected[i])) {
        XCTFail("\(what): [\(i)] \(actual[i]) vs \(expected[i]) (accuracy \(accuracy), relative \(relative))", file: file, line: line)
        return
    }
}

/// Fails unless the two arrays are bitwise equal, naming how many values differ and the first.
public func assertBitwiseEqual(_ actual: [Float], _ expected: [Float], _ what: String = "",
                               file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let differing = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
    if let first = differing.first {
        XCTFail("\(what): \(differing.count) of \(actual.count) values differ; first [\(first)]: \(actual[first]) vs \(expected[first])",
                file: file, line: line)
    }
}
