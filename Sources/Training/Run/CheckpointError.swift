import Foundation

/// Errors reading or writing training checkpoints.
public enum CheckpointError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case corrupt(file: String, reason: String)
    case noCheckpoint(directory: String)
    case mismatch(file: String, reason: String)
    case unwritable(file: String, reason: String)
    /// output_dir holds a run (`contents`: its checkpoints and logs) and the new one neither resumes
    /// nor may overwrite it.
    case existingRun(directory: String, contents: [String])

    public var description: String {
        switch self {
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .noCheckpoint(let directory): return "\(directory): no checkpoint-<step> folder to resume from"
        case .mismatch(let file, let reason): return "\(file): does not match this run: \(reason)"
        case .unwritable(let file, let reason): return "\(file): cannot write: \(reason)"
        case .existingRun(let directory, let contents):
            let shown = contents.prefix(4).joined(separator: ", ") + (contents.count > 4 ? ", ..." : "")
            return "\(directory): output_dir already holds a run (\(shown)); pass --resume to continue it, "
                + "set overwrite_output_dir: true to start over (its checkpoints and logs are removed), or choose another output_dir"
        }
    }

    public var errorDescription: String? { description }

    /// A failed write (a full disk, a file-size limit, a read-only folder) as `.unwritable`, naming
    /// the file Foundation names (else `fallback`) and the system's reason, followed by `note`.
    static func writing(_ error: Error, fallback: URL, note: String) -> Error {
        if error is CheckpointError { return error }
        let ns = error as NSError
        let file = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? fallback.path
        return CheckpointError.unwritable(file: file, reason: (systemReason(error) ?? "\(error)") + "; " + note)
    }

    /// The system's text (strerror) for the POSIX error a Foundation error wraps, if it wraps one.
    static func systemReason(_ error: Error) -> String? {
        let ns = error as NSError
        let posix = (ns.userInfo[NSUnderlyingErrorKey] as? Error).map { $0 as NSError }.flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
            ?? (ns.domain == NSPOSIXErrorDomain ? ns.code : nil)
        return posix.map { String(cString: strerror(Int32($0))) }
    }
}
