import Foundation

/// Writes that never leave a half-written file or folder behind: content goes to a temporary
/// sibling first and is renamed into place.
public enum AtomicFile {
    /// Writes `data` to `url` through a temporary file in the same folder and a rename.
    public static func write(_ data: Data, to url: URL) throws {
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: temp)
            if rename(temp.path, url.path) != 0 {
                throw ModelIOError.writeFailed(file: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as ModelIOError {
            try? FileManager.default.removeItem(at: temp)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ModelIOError.writeFailed(file: url.path, reason: error.localizedDescription)
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
