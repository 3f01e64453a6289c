import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous fp32 buffer, 64-byte aligned, or a view into another storage.
///
/// A view keeps its parent alive; only the storage that allocated the memory frees it.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let parent: Storage?
    /// Non-zero when the memory is an anonymous map of this many bytes.
    private let mappedBytes: Int

    /// Keeps freed tensor buffers in the heap for reuse: by default glibc serves every block over
    /// 128 KiB with a fresh mmap and returns it on free, so each op's output would be page-faulted
    /// in anew (seen as seconds of system time per training run).
    private static let heapReuse: Void = {
        ck_keep_freed_memory()
    }()

    /// Allocations of 64 MiB and more are anonymous memory maps: the kernel zero-fills pages on
    /// first touch, so a buffer that is never written (an inference model's gradients) costs no RSS.
    static let mapThreshold = 64 << 20

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        _ = Storage.heapReuse
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if bytes >= Storage.mapThreshold {
            guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
                fatalError("TensorCore: cannot map \(bytes) bytes")
            }
            pointer = mapped.bindMemory(to: Float.self, capacity: max(count, 1))
            mappedBytes = bytes
        } else {
            var raw: UnsafeMutableRawPointer?
            if posix_memalign(&raw, 64, bytes) != 0 || raw == nil {
                // Out of memory is not recoverable for a trainer; say how much was asked for.
                fatalError("TensorCore: cannot allocate \(bytes) bytes")
            }
            memset(raw!, 0, bytes)
            pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
            mappedBytes = 0
        }
        parent = nil
    }

    /// A view of `count` floats of `parent` starting at `offset`.
    public init(viewOf parent: Storage, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count,
                     "Storage view [\(offset), \(offset + count)) outside a buffer of \(parent.count)")
        self.pointer = parent.pointer + offset
        self.count = count
        self.parent = parent
        mappedBytes = 0
    }

    deinit {
        guard parent == nil else { return }
        if mappedBytes > 0 { munmap(pointer, mappedBytes) } else { free(pointer) }
    }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// Copies `values` in (the counts must match).
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "Storage.assign: \(values.count) values for \(count) floats")
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: count) }
        }
    }

    public func zero() { memset(pointer, 0, count * MemoryLayout<Float>.stride) }
}
