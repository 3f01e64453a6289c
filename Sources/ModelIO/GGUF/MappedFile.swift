import Foundation

/// A whole file mapped read-only into memory, unmapped when released. Open and map failures are
/// `ModelIOError.unreadable`; a file shorter than `minimumSize` is `ModelIOError.corrupt`.
///
/// (Written for GGUFFile; SafeTensorsFile maps its files the same way and could share it.)
final class MappedFile {
    let base: UnsafeRawPointer
    let size: Int

    init(url: URL, minimumSize: Int, format: String) throws {
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ModelIOError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ModelIOError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        size = Int(st.st_size)
        guard size >= max(minimumSize, 1) else {
            throw ModelIOError.corrupt(file: path, reason: "file has \(size) bytes, less than the \(minimumSize)-byte \(format) header")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw ModelIOError.unreadable(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}
