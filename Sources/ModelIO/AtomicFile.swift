import Foundation

/// Writes that never leave a half-written file or folder behind: content goes to a temporary
/// sibling first and is renamed into place.
public enum AtomicFile {
    /// Writes `data` to `url` through a temporary file in the same folder and a rename.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { sink in try data.withUnsafeBytes { try sink($0) } }
    }

    /// Writes what `produce` passes to its sink, in order, to `url` through a temporary file in the
    /// same folder and a rename, a piece at a time: a checkpoint's gigabyte of weights and moments
    /// is never copied into one buffer first.
    public static func write(to url: URL, _ produce: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        func failure() -> ModelIOError { .writeFailed(file: url.path, reason: String(cString: strerror(errno))) }
        var fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure() }
        do {
            try produce { bytes in
                var done = 0
                while done < bytes.count {
                    let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { throw failure() }
                    done += n
                }
            }
            let closed = close(fd)
            fd = -1
            if closed != 0 || rename(temp.path, url.path) != 0 { throw failure() }
        } catch {
            if fd >= 0 { close(fd) }
            try? FileManager.default.removeItem(at: temp)
            if error is ModelIOError { throw error }
            throw ModelIOError.writeFailed(file: url.path, reason: "\(error)")
        }
    }

    /// Fills a fresh temporary folder with `fill`, then renames it to `url`, replacing any folder
    /// there (the old one is removed only after the new one is complete).
    public static func writeDirectory(at url: URL, _ fill: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let pid = ProcessInfo.processInfo.processIdentifier
        let temp = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(pid)")
        let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(pid)")
        try? fm.removeItem(at: temp)
        try fm.createDirectory(at: temp, withIntermediateDirectories: true)
        do {
            try fill(temp)
        } catch {
            try? fm.removeItem(at: temp)
            throw error
        }
        if fm.fileExists(atPath: url.path) {
            try? fm.removeItem(at: old)
            try fm.moveItem(at: url, to: old)
        }
        if rename(temp.path, url.path) != 0 {
            throw ModelIOError.writeFailed(file: url.path, reason: String(cString: strerror(errno)))
        }
        try? fm.removeItem(at: old)
    }
}
