/// Shared raw-buffer helpers for the op kernels (outputs first, then inputs, then sizes).
enum Kernels {
    /// out[c] += sum over rows of x[r, c].  x: (rows, cols)
    static func addRowSums(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { out[c] += row[c] }
        }
    }

    /// y[i] += x[i]
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// y[i] += alpha * x[i]
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, alpha: Float, count: Int) {
        for i in 0..<count { y[i] += alpha * x[i] }
    }
}
