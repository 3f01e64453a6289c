import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// JSON Lines datasets: one row object per line.
public enum JSONL {
    /// The rows of a file, and how many bad lines `skipBadLines` dropped (with their 1-based numbers).
    public struct ReadResult: Sendable {
        public var rows: [Row]
        public var skippedLines: [Int]
        public var skipped: Int { skippedLines.count }
    }

    /// Reads every row of `url`. Blank lines are ignored. A line that is not JSON, or not an object with a
    /// valid `prompt`, throws `TaskError.malformedLine` naming the file and line, unless `skipBadLines`,
    /// which skips it and records its number.
    public static func read(_ url: URL, skipBadLines: Bool = false) throws -> ReadResult {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TaskError.io(file: url.path, reason: "cannot read: \(unreadable(url.path) ?? error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        var result = ReadResult(rows: [], skippedLines: [])
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
                continue
            }
            do {
                result.rows.append(try row(Data(line), decoder: decoder))
            } catch {
                guard skipBadLines else {
                    let reason = if case let .invalidRow(reason) = error { reason } else { error.description }
                    throw TaskError.malformedLine(file: url.path, line: lineNumber, reason: reason)
                }
                result.skippedLines.append(lineNumber)
            }
        }
        return result
    }

    /// Why `path` cannot be read as a file, in the system's words (Foundation's own error says
    /// "error 256" for a loop of symlinks): a stat failure, or that it is a folder.
    static func unreadable(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        return (info.st_mode & S_IFMT) == S_IFDIR ? "it is a folder, not a JSONL file" : nil
    }

    private static func row(_ line: Data, decoder: JSONDecoder) throws(TaskError) -> Row {
        guard let json = try? decoder.decode(JSONValue.self, from: line) else {
            throw .invalidRow(reason: "not valid JSON: \(String(decoding: line.prefix(80), as: UTF8.self))")
        }
        return try Row(json: json)
    }

    /// One line of JSON for a row: keys sorted, no trailing newline.
    public static func line(_ row: Row) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(row.jsonValue), as: UTF8.self)
    }

    /// Writes `rows` to `url` atomically: into a temporary file in the same directory, then renamed over
    /// `url`, so a reader (or a kill) never sees a half-written file.
    public static func write(_ rows: [Row], to url: URL) throws {
        var text = ""
        for row in rows {
            do {
                text += try line(row) + "\n"
            } catch {
                throw TaskError.io(file: url.path, reason: "cannot encode a row: \(error)")
            }
        }
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UInt64.random(in: 0...UInt64.max)).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw TaskError.io(file: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw TaskError.io(file: url.path, reason: "cannot rename the temporary file into place: \(reason)")
        }
    }
}
